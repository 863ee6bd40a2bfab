import type { Command } from 'commander';
import type { MemoryStatusResponse } from '../../client/types.js';
import { CliError, ExitCode, PartialResultError } from '../../errors.js';
import { abortOnSignals } from '../../signals.js';
import { positive } from '../flags.js';
import type { CommandSpec } from '../run.js';
import { withIdChecked } from './ids.js';

const DEFAULT_TIMEOUT_S = 300;

interface StatusFlags {
  wait?: boolean;
  timeout?: number;
}

/** `synap memories status <ingestion_ids...>`: where ingestions are; --wait polls until done. */
export const statusCommand: CommandSpec<StatusFlags, [string[]], MemoryStatusResponse[]> = {
  declare: (cmd: Command) =>
    cmd
      .description('show the status of one or more ingestions')
      .argument('<ingestion_id...>')
      .option('--wait', 'poll until every ingestion is completed, failed or partial_success')
      .option(
        '--timeout <seconds>',
        `give up waiting after this long (default ${DEFAULT_TIMEOUT_S})`,
        positive('--timeout', 'seconds'),
      )
      .addHelpText(
        'after',
        `
With --wait the exit code is 1 when an ingestion failed (or ended partial_success) or the wait
timed out.

Examples:
  $ synap memories status 9b1e4c1a-...
  $ synap memories status 9b1e4c1a-... 0c2d... --wait --timeout 120
  $ synap memories status 9b1e4c1a-... --json | jq -r '.result[0].status'`,
      ),

  async run(ctx, flags, ids) {
    const session = await ctx.session();
    const timeoutS = flags.timeout ?? DEFAULT_TIMEOUT_S;
    const { ingestionStatuses } = await import('../../memories/status.js');
    const { createProgress } = await import('../../output/progress.js');
    const progress = createProgress({
      quiet: ctx.globals.quiet || !flags.wait,
      color: ctx.globals.stderrColor,
    });
    const stop = flags.wait
      ? abortOnSignals({ hints: ['Run the same command again to keep waiting.'] })
      : undefined;
    progress.start(`waiting for ${ids.length} ingestion(s)`);
    const client = {
      status: (id: string, o?: { signal?: AbortSignal }) =>
        withIdChecked(id, 'ingestion', () => session.client.status(id, o)),
    };
    const { statuses, timedOut } = await ingestionStatuses(client, ids, {
      wait: flags.wait === true,
      timeoutMs: timeoutS * 1000,
      onPoll: (pending) => progress.update(`waiting for ${pending} of ${ids.length} ingestion(s)`),
      signal: stop?.signal,
    }).finally(() => {
      stop?.dispose();
      progress.stop();
    });
    if (flags.wait && timedOut) {
      const timeout = new CliError(`still not finished after ${timeoutS}s`, {
        hints: ['Run the same command again to keep waiting.'],
      });
      throw new PartialResultError(statuses, timeout);
    }
    const unfinished = flags.wait === true && statuses.some((s) => s.status !== 'completed');
    return { result: statuses, exitCode: unfinished ? ExitCode.FAILURE : ExitCode.OK };
  },

  render: async (statuses, view) =>
    (await import('../../output/memories.js')).printStatuses(statuses, view),
};
