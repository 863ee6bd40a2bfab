import { Option, type Command } from 'commander';
import { MAX_PAGE_SIZE, type ListMemoriesResponse } from '../../client/types.js';
import { ExitCode, InterruptedError, UsageError } from '../../errors.js';
import type { ListFormat } from '../../output/memory-rows.js';
import { integer } from '../flags.js';
import { viewOf, type CommandSpec } from '../run.js';

const DEFAULT_PAGE_SIZE = 20;

/** Kept here (not imported from the output module) so declaring the command loads no table code. */
const LIST_FORMATS = ['table', 'json', 'jsonl', 'csv', 'tsv'] as const satisfies ListFormat[];

interface ListFlags {
  page?: number;
  pageSize?: number;
  userId?: string;
  customerId?: string;
  all?: boolean;
  output?: ListFormat;
}

/** `n` and the noun for that many, the number grouped (1 memory, 1,200 memories). */
function plural(n: number, one: string, many: string): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `--all`: the memories went to stdout as they came; this is what is left to say. */
interface ListAllResult {
  all: true;
  format: ListFormat;
  memories: number;
  pages: number;
  /** The last total the server reported. */
  total: number | null;
  /** Signs that the list changed while it was read (see export). */
  warnings: string[];
  /** The reader closed stdout before the end (`| head`): what it took is all it wanted. */
  reader_closed?: true;
  /** Every memory, with --json only (the envelope is one document). */
  data?: Record<string, unknown>[];
}

/** What `list` hands its renderer: one page, or what `--all` streamed. */
export type ListResult = (ListMemoriesResponse & { format?: ListFormat }) | ListAllResult;

/** `synap memories list`: one page of memories, or with --all every one, streamed. */
export const listCommand: CommandSpec<ListFlags, [], ListResult> = {
  declare: (cmd: Command) =>
    cmd
      .description('list memories (id, type, content, created): one page, or --all')
      .option('--page <n>', 'page number (from 1)', integer('--page', 1))
      .option(
        '--page-size <n>',
        `memories per page (1-${MAX_PAGE_SIZE}; default: profile page_size, else ${DEFAULT_PAGE_SIZE}; 100 with --all)`,
        integer('--page-size', 1, MAX_PAGE_SIZE),
      )
      .option('--user-id <id>', 'only memories of this user')
      .option('--customer-id <id>', 'only memories of this customer')
      .option('--all', 'every page, written as it arrives (constant memory)')
      .addOption(
        new Option('--output <format>', 'table (default), json, jsonl, csv or tsv').choices(
          LIST_FORMATS,
        ),
      )
      .addHelpText(
        'after',
        `
--output json is the page's memories as one JSON array (with --all: all of them), jsonl one
memory a line, csv and tsv a header row and then one row a memory (memory_id, memory_type,
content, confidence, category, subcategory, created_at, updated_at, source_document_id). Only
the memories go to stdout; page counts and hints go to stderr. --json is the envelope instead.

Examples:
  $ synap memories list --page 2 --page-size 50 --user-id u_123
  $ synap memories list --all --output csv > memories.csv
  $ synap --local memories list --json | jq -r '.result.data[].memory_id'`,
      ),

  async run(ctx, flags) {
    if (flags.all && flags.page !== undefined) {
      throw new UsageError('--all and --page cannot be used together', {
        hints: ['--all reads every page from the first.'],
      });
    }
    if (ctx.globals.json && flags.output !== undefined) {
      throw new UsageError('--json and --output cannot be used together', {
        hints: [
          '--json prints one envelope {"status","result"}; --output prints the memories themselves.',
        ],
      });
    }
    const session = await ctx.session();
    const filters = {
      userId: flags.userId,
      customerId: flags.customerId,
    };
    const format = flags.output ?? 'table';
    if (!flags.all) {
      const page = await session.client.list({
        page: flags.page ?? 1,
        pageSize: flags.pageSize ?? session.defaults.page_size ?? DEFAULT_PAGE_SIZE,
        ...filters,
      });
      return { result: flags.output ? { ...page.data, format } : page.data };
    }

    const [{ MemoryPaginator, completenessWarnings }, { exportPageSize }, { abortOnSignals }] =
      await Promise.all([
        import('../../export/paginator.js'),
        import('../../export/page-size.js'),
        import('../../signals.js'),
      ]);
    // Ctrl-C (or SIGTERM) ends the listing between rows: what was written stays whole, and the
    // run exits 130 (143) saying how far it got, as an export to stdout does.
    const signals = abortOnSignals();
    const paginator = new MemoryPaginator(session.client, {
      pageSize: exportPageSize(flags.pageSize, session.defaults.page_size),
      ...filters,
      signal: signals.signal,
    });
    const collected: Record<string, unknown>[] | undefined = ctx.globals.json ? [] : undefined;
    const { MemoryRowsWriter } = await import('../../output/memory-rows.js');
    const writer = collected
      ? undefined
      : new MemoryRowsWriter(format, viewOf(ctx.globals, ctx.commandLine));
    let memories = 0;
    /** Pages taken in (a page that arrives after Ctrl-C is not). */
    let pages = 0;
    let readerClosed = false;
    try {
      for await (const page of paginator) {
        if (signals.signal.aborted) break;
        pages += 1;
        memories += page.memories.length;
        if (collected) collected.push(...page.memories);
        else {
          await writer!.write(page.memories);
          if (!writer!.accepting) {
            // The reader went away (`| head`): it has what it wanted; nothing is missing for it.
            readerClosed = true;
            break;
          }
        }
      }
    } catch (err) {
      if (!signals.signal.aborted) throw err;
    } finally {
      signals.dispose();
    }
    await writer?.end();
    if (signals.signal.aborted) {
      const reason: unknown = signals.signal.reason;
      throw new InterruptedError(
        `memories list --all interrupted after ${plural(memories, 'memory', 'memories')} (${plural(pages, 'page', 'pages')})`,
        {
          hints: [
            'The rows written are whole. For a listing that can be continued, use synap export -o FILE.',
          ],
          ...(reason instanceof InterruptedError && reason.exitCode === ExitCode.TERMINATED
            ? { exitCode: ExitCode.TERMINATED }
            : {}),
        },
      );
    }
    const result: ListAllResult = {
      all: true,
      format,
      memories,
      pages: paginator.tally.pages,
      total: paginator.tally.lastTotal ?? null,
      warnings: readerClosed ? [] : completenessWarnings(paginator.tally, memories),
      ...(readerClosed ? { reader_closed: true as const } : {}),
      ...(collected ? { data: collected } : {}),
    };
    return { result };
  },

  render: async (result, view) => {
    const out = await import('../../output/memories.js');
    if ('all' in result) return out.printListAllSummary(result, view);
    if (result.format === undefined || result.format === 'table') {
      return out.printMemoryPage(result, view);
    }
    const { MemoryRowsWriter } = await import('../../output/memory-rows.js');
    const writer = new MemoryRowsWriter(result.format, view);
    await writer.write(Array.isArray(result.data) ? result.data : []);
    await writer.end();
    out.printPageFooter(result, view);
  },
};
