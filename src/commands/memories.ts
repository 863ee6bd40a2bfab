import { Option, type Command } from 'commander';
import { systemClock, type Clock } from '../client/clock.js';
import {
  AuthenticationError,
  InsufficientCreditsError,
  PermissionDeniedError,
  SynapError,
} from '../client/errors.js';
import {
  MAX_PAGE_SIZE,
  MERGE_STRATEGIES,
  TERMINAL_STATUSES,
  type DeleteMemoryResponse,
  type ListMemoriesResponse,
  type Memory,
  type MemoryStatusResponse,
  type MergeStrategy,
} from '../client/types.js';
import { withSession, type Session } from '../config/session.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { writeJson, writeJsonLine } from '../output/json.js';
import { info, writeOut } from '../output/messages.js';
import { createProgress } from '../output/progress.js';
import { promptConfirm } from '../output/prompts.js';
import { redactSecrets } from '../output/redact.js';
import { renderKeyValue, renderTable, trimText } from '../output/table.js';
import { abortOnSignals } from '../signals.js';

const DEFAULT_PAGE_SIZE = 20;

function positiveInt(name: string, max?: number): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < 1 || (max !== undefined && n > max)) {
      throw new UsageError(
        `${name} must be a whole number${max === undefined ? ' >= 1' : ` from 1 to ${max}`} (got "${raw}")`,
      );
    }
    return n;
  };
}

function positiveSeconds(raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new UsageError(`--timeout must be seconds > 0 (got "${raw}")`);
  return n;
}

// ---- list ---------------------------------------------------------------------------------

export interface ListOptions {
  page?: number;
  pageSize?: number;
  userId?: string;
  customerId?: string;
}

export async function listMemories(
  session: Session,
  opts: ListOptions,
): Promise<ListMemoriesResponse> {
  const result = await session.client.list({
    page: opts.page ?? 1,
    pageSize: opts.pageSize ?? session.defaults.page_size ?? DEFAULT_PAGE_SIZE,
    ...(opts.userId !== undefined ? { userId: opts.userId } : {}),
    ...(opts.customerId !== undefined ? { customerId: opts.customerId } : {}),
  });
  return result.data;
}

function printList(page: ListMemoriesResponse, globals: GlobalOptions): void {
  const data = Array.isArray(page.data) ? page.data : [];
  if (page.total === 0 && data.length === 0) {
    writeOut('No memories.');
    return;
  }
  if (data.length === 0) {
    writeOut(`No memories on page ${page.page}.`);
  } else {
    const rows = data.map((m) => [
      m.memory_id,
      m.memory_type,
      trimText(String(m.content ?? ''), 200),
      m.created_at,
    ]);
    writeOut(renderTable(['id', 'type', 'content', 'created'], rows, { color: globals.color }));
  }
  // On stderr, so a piped listing is only rows.
  info(`page ${page.page} of ${page.total_pages}, ${page.total} memories total`, {
    quiet: globals.quiet,
  });
  if (page.page < page.total_pages) {
    info(`next page: synap memories list --page ${page.page + 1}`, { quiet: globals.quiet });
  }
}

// ---- get / update -------------------------------------------------------------------------

function printMemory(memory: Memory, globals: GlobalOptions): void {
  const pairs: [string, string][] = Object.entries(memory).map(([k, v]) => [
    k,
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v),
  ]);
  writeOut(renderKeyValue(pairs, { color: globals.color }));
}

// ---- delete -------------------------------------------------------------------------------

export interface DeleteReport {
  deleted: DeleteMemoryResponse[];
  failed: {
    memory_id: string;
    error: { code: string; message: string; status?: number; correlation_id?: string };
  }[];
}

/** Deletes one id after another; auth and credit errors stop the run, others are per id. */
export async function deleteMemories(session: Session, ids: string[]): Promise<DeleteReport> {
  const report: DeleteReport = { deleted: [], failed: [] };
  for (const id of ids) {
    try {
      report.deleted.push((await session.client.delete(id)).data);
    } catch (err) {
      const fatal =
        err instanceof AuthenticationError ||
        err instanceof PermissionDeniedError ||
        err instanceof InsufficientCreditsError ||
        !(err instanceof SynapError);
      // One id: the error itself is the answer (message, correlation id, exit code).
      if (fatal || ids.length === 1) throw err;
      report.failed.push({
        memory_id: id,
        error: {
          code: err.code,
          message: redactSecrets(err.message),
          ...(err.status !== undefined ? { status: err.status } : {}),
          ...(err.correlationId ? { correlation_id: err.correlationId } : {}),
        },
      });
    }
  }
  return report;
}

// ---- status -------------------------------------------------------------------------------

const POLL_MIN_MS = 500;
const POLL_MAX_MS = 5_000;

function isTerminal(s: MemoryStatusResponse): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(s.status);
}

/**
 * Fetches each ingestion's status; with `wait`, polls (interval growing from 0.5 s to 5 s) until
 * all are terminal or `timeoutMs` has passed. Time comes from `clock` so tests need not sleep.
 */
export async function ingestionStatuses(
  session: Session,
  ids: string[],
  opts: {
    wait?: boolean;
    timeoutMs?: number;
    clock?: Clock;
    onPoll?: (pending: number) => void;
    signal?: AbortSignal;
  },
): Promise<{ statuses: MemoryStatusResponse[]; timedOut: boolean }> {
  const clock = opts.clock ?? systemClock;
  const started = clock.now();
  const latest = new Map<string, MemoryStatusResponse>();
  let delay = POLL_MIN_MS;
  for (;;) {
    for (const id of ids) {
      const known = latest.get(id);
      if (known && isTerminal(known)) continue;
      latest.set(id, (await session.client.status(id, { signal: opts.signal })).data);
    }
    const pending = ids.filter((id) => !isTerminal(latest.get(id)!)).length;
    const statuses = ids.map((id) => latest.get(id)!);
    if (!opts.wait || pending === 0) return { statuses, timedOut: false };
    if (opts.timeoutMs !== undefined && clock.now() - started >= opts.timeoutMs) {
      return { statuses, timedOut: true };
    }
    opts.onPoll?.(pending);
    await clock.sleep(delay, opts.signal);
    delay = Math.min(POLL_MAX_MS, delay * 2);
  }
}

function printStatuses(statuses: MemoryStatusResponse[], globals: GlobalOptions): void {
  const rows = statuses.map((s) => [
    s.ingestion_id,
    s.status,
    s.memories_created ?? 0,
    (s.memory_ids ?? []).join('\n'),
    s.error_message ?? '',
  ]);
  writeOut(
    renderTable(['ingestion id', 'status', 'memories', 'memory ids', 'error'], rows, {
      color: globals.color,
    }),
  );
}

// ---- registration -------------------------------------------------------------------------

/** Adds the 'memories' command to the program. */
export function register(program: Command): void {
  const memories = program
    .command('memories')
    .description('list, inspect, update and delete memories; check ingestion status')
    .addHelpText(
      'after',
      `
Examples:
  $ synap memories list --page-size 50
  $ synap memories get 3f0c9d2e-...
  $ synap memories status 9b1e... --wait`,
    );

  memories
    .command('list')
    .description(
      'list one page of memories (id, type, content, created); --json prints the page envelope',
    )
    .option('--page <n>', 'page number (from 1)', positiveInt('--page'))
    .option(
      '--page-size <n>',
      `memories per page (1-${MAX_PAGE_SIZE}; default: profile page_size, else ${DEFAULT_PAGE_SIZE})`,
      positiveInt('--page-size', MAX_PAGE_SIZE),
    )
    .option('--user-id <id>', 'only memories of this user')
    .option('--customer-id <id>', 'only memories of this customer')
    .addHelpText(
      'after',
      `
Examples:
  $ synap memories list
  $ synap memories list --page 2 --page-size 50 --user-id u_123
  $ synap --local memories list --json | jq -r '.data[].memory_id'`,
    )
    .action(async (opts: ListOptions, cmd: Command) => {
      const globals = globalOptions(cmd);
      const page = await withSession(globals, (s) => listMemories(s, opts));
      if (globals.json) await writeJsonLine(page);
      else printList(page, globals);
    });

  memories
    .command('get')
    .description('show one memory')
    .argument('<memory_id>')
    .addHelpText(
      'after',
      `
Examples:
  $ synap memories get 3f0c9d2e-5b1a-4c11-9a53-0d7d1c1f2b11
  $ synap memories get 3f0c9d2e-5b1a-4c11-9a53-0d7d1c1f2b11 --json | jq .content`,
    )
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const memory = await withSession(globals, async (s) => (await s.client.get(id)).data);
      if (globals.json) await writeJson(memory);
      else printMemory(memory, globals);
    });

  memories
    .command('update')
    .description('change a memory by sending new document text')
    .argument('<memory_id>')
    .requiredOption('--document <text>', 'the new text')
    .addOption(
      new Option('--merge-strategy <strategy>', 'how the text is combined with the memory')
        .choices([...MERGE_STRATEGIES])
        .default('smart-merge'),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ synap memories update 3f0c9d2e-... --document "Prefers email over phone"
  $ synap memories update 3f0c9d2e-... --merge-strategy append --document Vegan`,
    )
    .action(
      async (
        id: string,
        opts: { document: string; mergeStrategy: MergeStrategy },
        cmd: Command,
      ) => {
        const globals = globalOptions(cmd);
        if (opts.document.trim() === '') throw new UsageError('--document must not be empty');
        const memory = await withSession(
          globals,
          async (s) =>
            (
              await s.client.update(id, {
                document: opts.document,
                merge_strategy: opts.mergeStrategy,
              })
            ).data,
        );
        if (globals.json) await writeJson(memory);
        else printMemory(memory, globals);
      },
    );

  memories
    .command('delete')
    .description('delete memories (irreversible); asks first unless --yes')
    .argument('<memory_id...>')
    .option('-y, --yes', 'do not ask for confirmation (required when not interactive)')
    .addHelpText(
      'after',
      `
Examples:
  $ synap memories delete 3f0c9d2e-...
  $ synap memories delete 3f0c9d2e-... 8a7b6c5d-... --yes
  $ jq -r .memory_id old-export.jsonl | xargs synap memories delete --yes`,
    )
    .action(async (ids: string[], opts: { yes?: boolean }, cmd: Command) => {
      const globals = globalOptions(cmd);
      if (!opts.yes) {
        const what = ids.length === 1 ? `memory ${ids[0]}` : `${ids.length} memories`;
        const ok = await promptConfirm(`Delete ${what}? This cannot be undone.`, {
          interactive: globals.interactive,
          alternative: 'Add --yes to delete without being asked.',
        });
        if (!ok) throw new CliError('nothing deleted', { exitCode: ExitCode.FAILURE });
      }
      const report = await withSession(globals, (s) => deleteMemories(s, ids));
      if (globals.json) {
        await writeJson(report);
      } else {
        for (const d of report.deleted) writeOut(`deleted ${d.memory_id}`);
        for (const f of report.failed) {
          info(
            `synap: could not delete ${f.memory_id}: ${f.error.message}` +
              (f.error.correlation_id ? ` (correlation id ${f.error.correlation_id})` : ''),
          );
        }
      }
      if (report.failed.length > 0) {
        process.exitCode = report.deleted.length > 0 ? ExitCode.PARTIAL : ExitCode.FAILURE;
      }
    });

  memories
    .command('status')
    .description('show the status of one or more ingestions')
    .argument('<ingestion_id...>')
    .option('--wait', 'poll until every ingestion is completed, failed or partial_success')
    .option('--timeout <seconds>', 'give up waiting after this long (default 300)', positiveSeconds)
    .addHelpText(
      'after',
      `
With --wait the exit code is 1 when an ingestion failed (or ended partial_success) or the wait
timed out.

Examples:
  $ synap memories status 9b1e4c1a-...
  $ synap memories status 9b1e4c1a-... 0c2d... --wait --timeout 120
  $ synap memories status 9b1e4c1a-... --json | jq -r '.[0].status'`,
    )
    .action(async (ids: string[], opts: { wait?: boolean; timeout?: number }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const progress = createProgress({
        quiet: globals.quiet || !opts.wait,
        color: globals.stderrColor,
      });
      const { statuses, timedOut } = await withSession(globals, async (s) => {
        const stop = opts.wait
          ? abortOnSignals({ hints: ['Run the same command again to keep waiting.'] })
          : undefined;
        progress.start(`waiting for ${ids.length} ingestion(s)`);
        try {
          return await ingestionStatuses(s, ids, {
            wait: opts.wait === true,
            timeoutMs: (opts.timeout ?? 300) * 1000,
            onPoll: (pending) =>
              progress.update(`waiting for ${pending} of ${ids.length} ingestion(s)`),
            ...(stop ? { signal: stop.signal } : {}),
          });
        } finally {
          stop?.dispose();
          progress.stop();
        }
      });
      if (globals.json) await writeJson(statuses);
      else printStatuses(statuses, globals);
      if (opts.wait) {
        if (timedOut) {
          throw new CliError(`still not finished after ${opts.timeout ?? 300}s`, {
            hints: ['Run the same command again to keep waiting.'],
          });
        }
        if (statuses.some((s) => s.status !== 'completed')) process.exitCode = ExitCode.FAILURE;
      }
    });
}
