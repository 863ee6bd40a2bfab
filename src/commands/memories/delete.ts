import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';
import type { DeleteReport } from '../../memories/delete.js';
import type { CommandSpec } from '../run.js';
import { refusedIdReason, withIdChecked } from './ids.js';

/** The code of a per-id failure for an id the server refused as malformed. */
const BAD_ID = 'INVALID_ID';

/** What was deleted and what not; `declined` when the user answered no (nothing was sent). */
export type DeleteResult = DeleteReport & { declined?: boolean };

/** `synap memories delete <ids...>`: asks first unless --yes; exit 3 when only some went. */
export const deleteCommand: CommandSpec<{ yes?: boolean }, [string[]], DeleteResult> = {
  declare: (cmd: Command) =>
    cmd
      .description('delete memories (irreversible); asks first unless --yes')
      .argument('<memory_id...>', 'memory ids, or unique starts of them (at least 4 characters)')
      .option('-y, --yes', 'do not ask for confirmation (required when not interactive)')
      .addHelpText(
        'after',
        `
Exit codes: 0 all deleted (or you answered no: nothing deleted); 3 some could not be deleted
(listed on stderr); 1 none could; 2 an id is not a valid memory id.

Examples:
  $ synap memories delete 3f0c9d2e-...
  $ synap memories delete 3f0c9d2e-... 8a7b6c5d-... --yes
  $ jq -r .memory_id old-export.jsonl | xargs synap memories delete --yes`,
      ),

  async run(ctx, flags, given) {
    // Prefixes are made whole first, so the question names the memories that would go.
    const { isIdPrefix, resolveIdPrefixes } = await import('../../memories/id-prefix.js');
    const ids = given.some(isIdPrefix)
      ? await resolveIdPrefixes((await ctx.session()).client, given)
      : given;
    if (!flags.yes) {
      const what = ids.length === 1 ? `memory ${ids[0]}` : `${ids.length} memories`;
      const { promptConfirm } = await import('../../output/prompts.js');
      const ok = await promptConfirm(`Delete ${what}? This cannot be undone.`, {
        interactive: ctx.globals.interactive,
        color: ctx.globals.stderrColor,
        alternative: `To delete without being asked: ${ctx.commandLine.with({ add: ['--yes'] })}`,
      });
      // Answering no is a choice, not a failure.
      if (!ok) return { result: { deleted: [], failed: [], declined: true } };
    }
    const session = await ctx.session();
    const { deleteMemories } = await import('../../memories/delete.js');
    const { InvalidInputError } = await import('../../client/errors.js');
    // An id the server refuses as malformed is named as such, without a correlation id.
    const client = {
      delete: async (id: string) => {
        try {
          return await session.client.delete(id);
        } catch (err) {
          const reason = await refusedIdReason(err);
          if (reason === undefined || ids.length === 1) throw err;
          throw new InvalidInputError(`not a valid memory id: ${reason}`, {
            code: BAD_ID,
            status: 422,
          });
        }
      },
    };
    const report = await withIdChecked(ids[0]!, 'memory', () => deleteMemories(client, ids));
    const exitCode =
      report.failed.length === 0
        ? ExitCode.OK
        : report.deleted.length > 0
          ? ExitCode.PARTIAL
          : report.failed.every((f) => f.error.code === BAD_ID)
            ? ExitCode.USAGE
            : ExitCode.FAILURE;
    return { result: report, exitCode };
  },

  render: async (report) => (await import('../../output/memories.js')).printDeleteReport(report),
};
