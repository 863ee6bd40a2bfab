import type { Command } from 'commander';
import { MAX_PAGE_SIZE } from '../../client/types.js';
import { hashNamedBy } from '../../ledger/verdict.js';
import type { LedgerRebuilt } from '../../output/ledger.js';
import type { CommandSpec } from '../run.js';
import { openLedger } from '../ingest-ledger.js';
import { keyInstance } from './open.js';

/**
 * `synap ledger rebuild`: the ledger of the key's instance from the instance's own listing, for
 * a machine that did not run the imports. The listing names each memory's source document
 * (`source_document_id`) but not the body it was sent with: an id made by `--id-from hash`
 * names its body, so it is restored whole; any other id is held with its body unknown (a record
 * with that id counts as unchanged until `--resend` or `ledger forget`).
 */
export const rebuildCommand: CommandSpec<Record<string, never>, [], LedgerRebuilt> = {
  declare: (cmd: Command) =>
    cmd
      .description("list the memories of the key's instance and rebuild its ledger from them")
      .addHelpText(
        'after',
        `
Reads every page of the instance's memory list and records each memory's source_document_id.
Ids made by --id-from hash (sha256-…) name their body, so they are restored exactly; for ids of
your own the listing does not show the body they were sent with: they are held as they are, and
a record with such an id is not sent again (use --resend or 'synap ledger forget ID' to send an
edited one). Ids the ledger held that the listing no longer shows are forgotten. An interrupted
rebuild changes nothing.

Examples:
  $ synap ledger rebuild
  $ synap --json ledger rebuild | jq .result.listed`,
      ),

  async run(ctx) {
    const session = await ctx.session();
    const instanceId = await keyInstance(session);
    const { MemoryPaginator } = await import('../../export/paginator.js');
    const paginator = new MemoryPaginator(session.client, { pageSize: MAX_PAGE_SIZE });
    let memories = 0;
    let withoutDocument = 0;
    const pages = (async function* () {
      for await (const page of paginator) {
        const ids: string[] = [];
        for (const m of page.memories) {
          memories += 1;
          const id = m.source_document_id;
          if (typeof id === 'string' && id !== '') ids.push(id);
          else withoutDocument += 1;
        }
        yield ids;
      }
    })();
    const ledger = await openLedger();
    try {
      const counts = await ledger.rebuild(instanceId, pages, hashNamedBy);
      return {
        result: {
          instance_id: instanceId,
          memories,
          without_document_id: withoutDocument,
          ...counts,
        },
      };
    } finally {
      ledger.close();
    }
  },

  render: async (result) => (await import('../../output/ledger.js')).printLedgerRebuilt(result),
};
