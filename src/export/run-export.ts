import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { CliError, ExitCode, InterruptedError, UsageError } from '../errors.js';
import {
  completenessWarnings,
  ExportPageError,
  MemoryPaginator,
  type ListClient,
} from './paginator.js';
import type { StateFile } from '../state-file.js';
import { exportStateFile, shapeDifferences, type ExportShape, type ExportState } from './state.js';
import { FileJsonLinesWriter, StreamJsonLinesWriter, type JsonLinesWriter } from './writer.js';
import { RECENT_IDS, RecentIds } from './recent-ids.js';

export type ExportDestination =
  { kind: 'stream'; stream: NodeJS.WritableStream } | { kind: 'file'; path: string };

export interface ExportOptions {
  client: ListClient;
  /** Part of the export's identity: a resume against another server is refused. */
  baseUrl: string;
  pageSize: number;
  userId?: string;
  customerId?: string;
  destination: ExportDestination;
  /** Ignore an existing state file and start over. */
  restart?: boolean;
  /** Overwrite an existing non-empty file that is not this export's unfinished output. */
  force?: boolean;
  /** Time source for rates and checkpoint spacing (default: the system clock). */
  clock?: Clock;
  /** Minimum time between checkpoints (default 1000 ms; 0 = after every page). */
  checkpointIntervalMs?: number;
  signal?: AbortSignal;
}

/** Events for progress display; none of them is required. */
export interface ExportReporter {
  onStart?(e: {
    resumedFromPage: number | undefined;
    keptLines: number;
    output: string | null;
  }): void;
  onPage?(e: ExportProgress): void;
  onWarning?(message: string): void;
}

export interface ExportProgress {
  page: number;
  pages: number;
  /** Lines in the output, including those kept from an interrupted run. */
  written: number;
  writtenThisRun: number;
  total: number | undefined;
  elapsedMs: number;
}

export interface ExportSummary {
  /** Absolute output path, or null for stdout. */
  output: string | null;
  /** Lines in the output (distinct memories), including those kept from an interrupted run. */
  memories: number;
  written_this_run: number;
  pages: number;
  duplicates_skipped: number;
  without_memory_id: number;
  total_reported: number | null;
  total_at_start: number | null;
  total_changed: boolean;
  resumed_from_page: number | null;
  /** False when the reader closed stdout before the end (`| head`). */
  complete: boolean;
  /**
   * True when the export cannot vouch that it holds every memory: the reader closed stdout,
   * the total changed while paging, or the server reported more memories than were written.
   * The command then exits 3.
   */
  partial: boolean;
  elapsed_ms: number;
  memories_per_s: number;
  warnings: string[];
}

interface ResumePoint {
  page: number;
  bytes: number;
  lines: number;
  ids: RecentIds;
  state: ExportState | undefined;
}

/**
 * Reads the memory_ids of the first `limit` bytes of an export file (keeping the most recent
 * ones, see RecentIds). Stops at the first line that is incomplete or not JSON (a torn write);
 * `bytes` is the end of the last good line.
 */
export async function readExportedIds(
  path: string,
  limit: number,
  capacity = RECENT_IDS,
): Promise<{ ids: RecentIds; lines: number; bytes: number }> {
  const ids = new RecentIds(capacity);
  let lines = 0;
  let bytes = 0;
  if (limit <= 0) return { ids, lines, bytes };
  let rest = Buffer.alloc(0);
  let broken = false;
  for await (const chunk of createReadStream(path, { start: 0, end: limit - 1 })) {
    let buf = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let nl: number;
    while (!broken && (nl = buf.indexOf(0x0a)) !== -1) {
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        broken = true;
        break;
      }
      const id = (value as { memory_id?: unknown } | null)?.memory_id;
      if (typeof id === 'string') ids.add(id);
      lines++;
      bytes += Buffer.byteLength(line) + 1;
    }
    if (broken) break;
    rest = Buffer.from(buf);
  }
  return { ids, lines, bytes };
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A non-empty regular file at `path` with no export state beside it is someone else's data (or
 * a finished backup): overwriting it needs --force. Its own unfinished output (a state file
 * exists, even with --restart) and empty files or devices are written without asking.
 */
async function refuseToClobber(path: string, statePath: string): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!info.isFile() || info.size === 0) return;
  if ((await fileSize(statePath)) !== undefined) return;
  throw new UsageError(
    `${path} already exists and is not an unfinished export; not overwriting it`,
    {
      hints: ['Add --force to replace it, or choose another file with -o.'],
    },
  );
}

/** Decides where an `-o FILE` export starts: fresh, or after the last checkpointed page. */
async function findResumePoint(
  path: string,
  stateFile: StateFile<'export', ExportState>,
  shape: ExportShape,
  restart: boolean,
  warn: (m: string) => void,
): Promise<ResumePoint | undefined> {
  if (restart) return undefined;
  const state = await stateFile.read();
  if (!state) return undefined;
  const diffs = shapeDifferences(state.shape, shape);
  if (diffs.length > 0) {
    throw new UsageError(
      `${path} holds an unfinished export made with different options (${diffs.join('; ')})`,
      {
        hints: ['Re-run with the original options to continue it, or add --restart to start over.'],
      },
    );
  }
  const size = await fileSize(path);
  if (size === undefined) {
    warn(`${stateFile.path} exists but ${path} does not; starting the export over`);
    return undefined;
  }
  if (size >= state.bytes) {
    const read = await readExportedIds(path, state.bytes);
    if (read.lines === state.lines && read.bytes === state.bytes) {
      return {
        page: state.next_page,
        bytes: state.bytes,
        lines: state.lines,
        ids: read.ids,
        state,
      };
    }
  }
  // The file does not match its checkpoint (shortened, or edited): keep its complete lines,
  // remember all their ids (paging restarts from the first page) and page from the start;
  // deduplication keeps every memory once.
  const read = await readExportedIds(path, size, Infinity);
  warn(
    `${path} does not match its state file; keeping its ${read.lines} complete lines and ` +
      'paging from the start (memories already in the file are not written again)',
  );
  return { page: 1, bytes: read.bytes, lines: read.lines, ids: read.ids, state };
}

/**
 * Runs an export: pages → dedupe → JSON Lines, with checkpoints for `-o FILE`. Returns the
 * summary; throws ExportPageError (naming the page) when a page cannot be fetched, and
 * InterruptedError when `signal` aborts (after saving the checkpoint).
 */
export async function runExport(
  opts: ExportOptions,
  reporter: ExportReporter = {},
): Promise<ExportSummary> {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const started = now();
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    reporter.onWarning?.(m);
  };
  const shape: ExportShape = {
    base_url: opts.baseUrl,
    page_size: opts.pageSize,
    user_id: opts.userId ?? null,
    customer_id: opts.customerId ?? null,
  };

  const file = opts.destination.kind === 'file' ? resolve(opts.destination.path) : null;
  const stateFile = file ? exportStateFile(file) : null;
  const resume =
    file && stateFile
      ? await findResumePoint(file, stateFile, shape, opts.restart === true, warn)
      : undefined;

  if (file && stateFile && !resume && !opts.force) await refuseToClobber(file, stateFile.path);

  let writer: JsonLinesWriter;
  if (opts.destination.kind === 'file') {
    writer = await FileJsonLinesWriter.open(
      file!,
      resume ? { bytes: resume.bytes, lines: resume.lines } : undefined,
    );
  } else {
    writer = new StreamJsonLinesWriter(opts.destination.stream);
  }

  const paginator = new MemoryPaginator(opts.client, {
    pageSize: opts.pageSize,
    ...(opts.userId !== undefined ? { userId: opts.userId } : {}),
    ...(opts.customerId !== undefined ? { customerId: opts.customerId } : {}),
    startPage: resume?.page ?? 1,
    seen: resume?.ids ?? new RecentIds(),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const prior = resume?.state;
  if (prior && resume.page > 1) {
    // Carry the counts of the interrupted run so the summary covers the whole export.
    Object.assign(paginator.tally, {
      pages: prior.pages,
      duplicates: prior.duplicates,
      firstTotal: prior.first_total ?? undefined,
      lastTotal: prior.last_total ?? undefined,
      maxTotal: prior.max_total ?? undefined,
      totalChanges: [...prior.total_changes],
    });
  }
  const keptLines = writer.lines;
  const startedAt = prior?.started_at ?? new Date(started).toISOString();
  reporter.onStart?.({
    resumedFromPage: resume && resume.page > 1 ? resume.page : undefined,
    keptLines,
    output: file,
  });

  // What is on disk and complete: the checkpoint may record exactly this.
  let consistent = { nextPage: paginator.nextPage, bytes: writer.bytes, lines: writer.lines };
  let checkpointed = -Infinity;
  const interval = opts.checkpointIntervalMs ?? 1000;
  const checkpoint = async () => {
    if (!stateFile) return;
    await writer.sync();
    const t = paginator.tally;
    await stateFile.write({
      ...stateFile.header(),
      shape,
      next_page: consistent.nextPage,
      bytes: consistent.bytes,
      lines: consistent.lines,
      pages: t.pages,
      duplicates: t.duplicates,
      first_total: t.firstTotal ?? null,
      last_total: t.lastTotal ?? null,
      max_total: t.maxTotal ?? null,
      total_changes: t.totalChanges,
      started_at: startedAt,
      updated_at: new Date(now()).toISOString(),
    });
    checkpointed = now();
  };

  let complete = true;
  let writing = false;
  try {
    if (stateFile) await checkpoint();
    for await (const page of paginator) {
      for (const change of paginator.tally.totalChanges.filter((c) => c.page === page.page)) {
        // Shown live; the end-of-export warning (with the first and last totals) is the record.
        reporter.onWarning?.(
          `the total changed during the export: ${change.previous} → ${change.current} (page ${change.page})`,
        );
      }
      writing = true;
      const open = await writer.writePage(page);
      writing = false;
      if (!open) {
        complete = false;
        break;
      }
      consistent = { nextPage: page.nextPage, bytes: writer.bytes, lines: writer.lines };
      reporter.onPage?.({
        page: page.page,
        pages: paginator.tally.pages,
        written: writer.lines,
        writtenThisRun: writer.lines - keptLines,
        total: page.total,
        elapsedMs: now() - started,
      });
      if (stateFile && !page.last && now() - checkpointed >= interval) await checkpoint();
    }
  } catch (err) {
    // Between pages the file and `consistent` agree: save it so a re-run continues here.
    if (stateFile && !writing) await checkpoint().catch(() => undefined);
    await writer.close().catch(() => undefined);
    if (opts.signal?.aborted) {
      const reason: unknown = opts.signal.reason;
      const exitCode = reason instanceof InterruptedError ? reason.exitCode : undefined;
      throw new InterruptedError(
        stateFile
          ? `export interrupted at page ${consistent.nextPage}; ${consistent.lines} memories are in ${file}`
          : 'export interrupted',
        {
          hints: stateFile
            ? ['Run the same command again to continue where it stopped.']
            : ['Use -o FILE for an export that can be continued after an interruption.'],
          ...(exitCode === ExitCode.TERMINATED ? { exitCode } : {}),
        },
      );
    }
    if (err instanceof ExportPageError && stateFile) {
      err.hints.push(
        `${consistent.lines} memories are in ${file}; run the same command again to continue from page ${err.page}.`,
      );
    } else if (err instanceof ExportPageError) {
      err.hints.push('Use -o FILE for an export that can be continued from where it stopped.');
    }
    throw err instanceof CliError || err instanceof Error ? err : new Error(String(err));
  }
  await writer.close();
  if (stateFile) await stateFile.remove();

  const tally = paginator.tally;
  const doubts = complete ? completenessWarnings(tally, writer.lines) : [];
  for (const w of doubts) warn(w);
  const elapsed = Math.max(0, now() - started);
  const thisRun = writer.lines - keptLines;
  return {
    output: file,
    memories: writer.lines,
    written_this_run: thisRun,
    pages: tally.pages,
    duplicates_skipped: tally.duplicates,
    without_memory_id: tally.withoutId,
    total_reported: tally.lastTotal ?? null,
    total_at_start: tally.firstTotal ?? null,
    total_changed: tally.totalChanges.length > 0,
    resumed_from_page: resume && resume.page > 1 ? resume.page : null,
    complete,
    partial: !complete || doubts.length > 0,
    elapsed_ms: elapsed,
    memories_per_s: elapsed > 0 ? Math.round((thisRun / elapsed) * 1000) : thisRun,
    warnings,
  };
}
