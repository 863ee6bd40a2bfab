import type { Command } from 'commander';
import { CliError, ExitCode } from '../../errors.js';
import type { DeleteReport } from '../../memories/delete.js';
import type { CommandSpec } from '../run.js';

/** `synap memories delete <ids...>`: asks first unless --yes; exit 3 when only some went. */
export const deleteCommand: CommandSpec<{ yes?: boolean }, [string[]], DeleteReport> = {
  declare: (cmd: Command) =>
    cmd
      .description('delete memories (irreversible); asks first unless --yes')
      .argument('<memory_id...>')
      .option('-y, --yes', 'do not ask for confirmation (required when not interactive)')
      .addHelpText(
        'after',
        `
Exit codes: 0 all deleted; 3 some could not be deleted (listed on stderr); 1 none could.

Examples:
  $ synap memories delete 3f0c9d2e-...
  $ synap memories delete 3f0c9d2e-... 8a7b6c5d-... --yes
  $ jq -r .memory_id old-export.jsonl | xargs synap memories delete --yes`,
      ),

  async run(ctx, flags, ids) {
    if (!flags.yes) {
      const what = ids.length === 1 ? `memory ${ids[0]}` : `${ids.length} memories`;
      const { promptConfirm } = await import('../../output/prompts.js');
      const ok = await promptConfirm(`Delete ${what}? This cannot be undone.`, {
        interactive: ctx.globals.interactive,
        alternative: `To delete without being asked: ${ctx.commandLine.with({ add: ['--yes'] })}`,
      });
      if (!ok) throw new CliError('nothing deleted', { exitCode: ExitCode.FAILURE });
    }
    const session = await ctx.session();
    const { deleteMemories } = await import('../../memories/delete.js');
    const report = await deleteMemories(session.client, ids);
    const exitCode =
      report.failed.length === 0
        ? ExitCode.OK
        : report.deleted.length > 0
          ? ExitCode.PARTIAL
          : ExitCode.FAILURE;
    return { result: report, exitCode };
  },

  render: async (report) => (await import('../../output/memories.js')).printDeleteReport(report),
};
