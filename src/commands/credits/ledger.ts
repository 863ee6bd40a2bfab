import type { Command } from 'commander';
import type { CreditLedgerPage, CreditLedgerQuery } from '../../client/types.js';
import { UsageError } from '../../errors.js';
import { isIsoDate } from '../../client/datetime.js';
import { refuse } from '../../value-rules.js';
import { integer } from '../flags.js';
import type { CommandSpec } from '../run.js';

/** The most entries one ledger request may ask for (the service's limit). */
const MAX_LIMIT = 1000;
const DEFAULT_LIMIT = 20;

interface LedgerFlags {
  limit?: number;
  offset?: number;
  all?: boolean;
  entryType?: string;
  from?: string;
  to?: string;
}

function isoTime(flag: string): (raw: string) => string {
  return (raw) => {
    if (!isIsoDate(raw.trim()))
      refuse(flag, 'an ISO-8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z', raw);
    return raw.trim();
  };
}

/**
 * `synap credits ledger`: the wallet's entries, newest first, a page at a time (offset paging);
 * `--all` reads every page of the filtered ledger.
 */
export const ledgerCommand: CommandSpec<LedgerFlags, [], CreditLedgerPage> = {
  declare: (cmd: Command) =>
    cmd
      .description('list credit ledger entries (grants, usage), newest first')
      .option(
        '--limit <n>',
        `entries per page, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})`,
        integer('--limit', 1, MAX_LIMIT),
      )
      .option('--offset <n>', 'skip this many entries (default 0)', integer('--offset', 0))
      .option('--all', 'every entry that matches, page after page')
      .option('--entry-type <type>', 'only entries of this type, e.g. grant or usage')
      .option('--from <time>', 'only entries at or after this ISO-8601 time', isoTime('--from'))
      .option('--to <time>', 'only entries at or before this ISO-8601 time', isoTime('--to'))
      .addHelpText(
        'after',
        `
Examples:
  $ synap credits ledger
  $ synap credits ledger --entry-type usage --from 2026-01-01 --limit 100
  $ synap credits ledger --all --json | jq '[.result.entries[].delta] | add'`,
      ),

  async run(ctx, flags) {
    if (flags.all && flags.offset !== undefined)
      throw new UsageError('--all reads from the first entry: leave out --offset');
    const session = await ctx.session();
    const query: CreditLedgerQuery = {
      limit: flags.limit ?? (flags.all ? MAX_LIMIT : DEFAULT_LIMIT),
      offset: flags.offset ?? 0,
      entryType: flags.entryType,
      from: flags.from,
      to: flags.to,
    };
    const first = (await session.client.creditsLedger(query)).data;
    if (!flags.all) return { result: first };
    const entries = [...first.entries];
    let total = first.total;
    // Offset paging until a short page or the total: newest first, so entries booked while
    // this runs shift the pages (an entry may be seen twice; ids tell them apart).
    for (let offset = entries.length; offset < total;) {
      const page = (await session.client.creditsLedger({ ...query, offset })).data;
      if (page.entries.length === 0) break;
      entries.push(...page.entries);
      offset += page.entries.length;
      total = page.total;
    }
    return { result: { entries, total, limit: entries.length, offset: 0 } };
  },

  render: async (result, view) =>
    (await import('../../output/credits.js')).printCreditLedger(result, view),
};
