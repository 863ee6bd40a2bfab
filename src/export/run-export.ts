import { createReadStream, type Stats } from 'node:fs';
import { realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { syncDir } from '../atomic-write.js';
import { systemClock } from '../clock.js';
import { ExitCode, InterruptedError, UsageError } from '../errors.js';
import {
  ExportPageError,
  listingOf,
  MemoryPaginator,
  type ListClient,
  type Listing,
  totalChangeWarnings,
} from './paginator.js';
import type { StateFile } from '../state-file.js';
import { exportStateFile, shapeDifferences, type ExportShape, type ExportState } from './state.js';
import { FileJsonLinesWriter, StreamJsonLinesWriter, type JsonLinesWriter } from './writer.js';
import { RECENT_IDS, RecentIds } from './recent-ids.js';
import { isOwnFinishedExport, removeDoneRecord, writeDoneRecord } from './done-record.js';
import { verifyCompleteness } from './verify.js';
import { WrittenIds } from './written-ids.js';

type ExportDestination =
  { kind: 'stream'; stream: NodeJS.WritableStream } | { kind: 'file'; path: string };

export interface ExportOptions extends Listing {
  client: ListClient;
  /** Part of the export's identity (Session.stateUrl): a resume against another server is refused. */
  baseUrl: string;
  /**
   * The instance exported (whoami's instance_id; null when the server has none): a file that is
   * a finished export of the same instance is replaced without `force`.
   */
  instanceId?: string | null;
  destination: ExportDestination;
  /** Ignore an existing state file and start over. */
  restart?: boolean;
  /** Replace an existing non-empty file that is not a finished export of this instance. */
  force?: boolean;
  /** Minimum time between checkpoints (default 1000 ms; 0 = after every page). */
  checkpointIntervalMs?: number;
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
  /** Lines in the output, including those kept from an interrupted run. */
  written: number;
  writtenThisRun: number;
  total: number | undefined;
  elapsedMs: number;
}

/** What an export did: the command's result (`--json`) and the summary it prints. */
export type ExportSummary = Awaited<ReturnType<typeof runExport>>;

type ResumePoint = Awaited<ReturnType<typeof readExportedIds>> & {
  page: number;
  state: ExportState;
};

/**
 * Reads the memory_ids of the first `limit` bytes of an export file: all of them in `written`,
 * the most recent ones in `ids` (see RecentIds). Stops at the first line that is incomplete or
 * not JSON (a torn write); `bytes` is the end of the last good line.
 */
export async function readExportedIds(path: string, limit: number, capacity = RECENT_IDS) {
  const ids = new RecentIds(capacity);
  const written = new WrittenIds();
  let lines = 0;
  let bytes = 0;
  if (limit <= 0) return { ids, written, lines, bytes };
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { start: 0, end: limit - 1 })) {
    let buf = rest.length ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) !== -1) {
      const line = buf.subarray(0, nl).toString('utf8');
      buf = buf.subarray(nl + 1);
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        return { ids, written, lines, bytes };
      }
      const id = (value as { memory_id?: unknown } | null)?.memory_id;
      if (typeof id === 'string') {
        ids.addNew(id);
        written.add(id);
      }
      lines++;
      bytes += Buffer.byteLength(line) + 1;
    }
    rest = Buffer.from(buf);
  }
  return { ids, written, lines, bytes };
}

/** What is at `path`, or undefined when nothing is. */
async function statIfAny(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * A non-empty regular file at `path` is replaced only when it is, unchanged, a finished export
 * of the same instance (its done record says so), or when an export to it is unfinished (a
 * state file exists). Anything else is someone else's data: replacing it needs --force.
 */
async function refuseToClobber(
  path: string,
  statePath: string,
  who: { instanceId: string | null; baseUrl: string },
): Promise<void> {
  const info = await statIfAny(path);
  if (!info?.isFile() || info.size === 0) return;
  if ((await statIfAny(statePath)) !== undefined) return;
  if (await isOwnFinishedExport(path, who)) return;
  throw new UsageError(
    `${path} already exists and is not a finished export of this instance; not replacing it`,
    {
      hints: ['Add --force to replace it, or choose another file with -o.'],
    },
  );
}

/** Where an `-o FILE` export writes until it is complete. */
export function partialPathFor(output: string): string {
  return `${output}.synap-export-partial`;
}

/** The file `path` names, through symlinks; `path` itself when it does not exist. */
async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

/** Decides where an `-o FILE` export starts: fresh, or after the last checkpointed page. */
async function findResumePoint(
  name: string,
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
      `${name} has an unfinished export made with different options (${diffs.join('; ')})`,
      {
        hints: ['Re-run with the original options to continue it, or add --restart to start over.'],
      },
    );
  }
  const size = (await statIfAny(path))?.size;
  if (size === undefined) {
    warn(`${stateFile.path} exists but ${path} does not; starting the export over`);
    return undefined;
  }
  if (size >= state.bytes) {
    const read = await readExportedIds(path, state.bytes);
    if (read.lines === state.lines && read.bytes === state.bytes) {
      return { ...read, page: state.next_page, state };
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
  return { ...read, page: 1, state };
}

/**
 * Runs an export: pages → dedupe → JSON Lines, with checkpoints for `-o FILE`. Returns the
 * summary; throws ExportPageError (naming the page) when a page cannot be fetched, and
 * InterruptedError when `signal` aborts (after saving the checkpoint).
 */
export async function runExport(opts: ExportOptions, reporter: ExportReporter = {}) {
  const now = () => systemClock.now();
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
  // A regular file is written beside FILE and renamed over it only once complete, so a failed
  // or interrupted export leaves the previous FILE as it was; a device or FIFO is written as is.
  const inPlace = file ? (await statIfAny(file))?.isFile() === false : true;
  // A symlink stays a symlink: what it points to is the file replaced.
  const target = file ? await realTarget(file) : null;
  const writePath = file ? (inPlace ? file : partialPathFor(target!)) : null;
  const resume =
    file && stateFile
      ? await findResumePoint(file, writePath!, stateFile, shape, opts.restart === true, warn)
      : undefined;
  const who = { instanceId: opts.instanceId ?? null, baseUrl: opts.baseUrl };

  if (file && stateFile && !resume && !opts.force)
    await refuseToClobber(target!, stateFile.path, who);

  // A resume keeps the file's first resume.bytes (resume.lines lines) and appends after them.
  const writer: JsonLinesWriter =
    opts.destination.kind === 'stream'
      ? new StreamJsonLinesWriter(opts.destination.stream)
      : await FileJsonLinesWriter.open(writePath!, resume);
  const written = resume?.written ?? new WrittenIds();

  const paginator = new MemoryPaginator(opts.client, {
    ...listingOf(opts),
    startPage: resume?.page ?? 1,
    seen: resume?.ids ?? new RecentIds(),
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
  const progress = (page: number, total: number | undefined) =>
    reporter.onPage?.({
      page,
      written: writer.lines,
      writtenThisRun: writer.lines - keptLines,
      total,
      elapsedMs: now() - started,
    });

  let complete = true;
  let writing = false;
  let verified = { passes: 0, recovered: 0, shown: false, closed: false };
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
      for (const m of page.memories) if (typeof m.memory_id === 'string') written.add(m.memory_id);
      consistent = { nextPage: page.nextPage, bytes: writer.bytes, lines: writer.lines };
      progress(page.page, page.total);
      if (stateFile && !page.last && now() - checkpointed >= interval) await checkpoint();
    }
    if (complete) {
      verified = await verifyCompleteness({
        client: opts.client,
        ...listingOf(opts),
        written,
        write: async (missing) => {
          writing = true;
          const open = await writer.writePage(missing);
          writing = false;
          if (open) consistent = { ...consistent, bytes: writer.bytes, lines: writer.lines };
          return open;
        },
        onPage: async (page) => {
          progress(page, paginator.tally.lastTotal);
          if (stateFile && now() - checkpointed >= interval) await checkpoint();
        },
      });
      if (verified.closed) complete = false;
    }
  } catch (err) {
    // Between pages the file and `consistent` agree: save it so a re-run continues here.
    if (stateFile && !writing) await checkpoint().catch(() => undefined);
    await writer.close().catch(() => undefined);
    // A partial file no checkpoint ever counted (a full disk at the first write) is no use to a
    // resume: nothing is left behind.
    if (writePath && !inPlace && !resume && checkpointed === -Infinity) {
      await rm(writePath, { force: true }).catch(() => undefined);
    }
    if (opts.signal?.aborted) {
      const reason: unknown = opts.signal.reason;
      const exitCode = reason instanceof InterruptedError ? reason.exitCode : undefined;
      throw new InterruptedError(
        stateFile
          ? `export interrupted at page ${consistent.nextPage}; ${consistent.lines} memories are kept for it (${file} is untouched until the export completes)`
          : 'export interrupted',
        {
          hints: stateFile
            ? ['Run the same command again to continue where it stopped.']
            : ['Use -o FILE for an export that can be continued after an interruption.'],
          ...(exitCode === ExitCode.TERMINATED ? { exitCode } : {}),
        },
      );
    }
    if (err instanceof ExportPageError) {
      err.hints.push(
        stateFile
          ? `${file} is untouched; ${consistent.lines} memories are kept for the export: run the same command again to continue from page ${err.page}.`
          : 'Use -o FILE for an export that can be continued from where it stopped.',
      );
    }
    throw err instanceof Error ? err : new Error(String(err));
  }
  await writer.sync();
  await writer.close();
  if (file && stateFile) {
    if (!inPlace) {
      // The done record first: a crash before the rename leaves the state file, so the next
      // run resumes (and renames) instead of trusting a record that does not match FILE yet.
      const info = await stat(writePath!);
      await writeDoneRecord(target!, {
        version: 1,
        kind: 'synap-export-done',
        instance_id: who.instanceId,
        base_url: opts.baseUrl,
        shape,
        lines: writer.lines,
        bytes: info.size,
        mtime_ms: info.mtimeMs,
        finished_at: new Date(now()).toISOString(),
      });
      await rename(writePath!, target!);
      await syncDir(dirname(target!));
    } else {
      await removeDoneRecord(target!);
    }
    await stateFile.remove();
  }

  const tally = paginator.tally;
  if (complete) for (const w of completenessWarnings(tally, verified)) warn(w);
  const elapsed = Math.max(0, now() - started);
  const thisRun = writer.lines - keptLines;
  return {
    /** Absolute output path, or null for stdout. */
    output: file,
    /** Lines in the output (distinct memories), including those kept from an interrupted run. */
    memories: writer.lines,
    written_this_run: thisRun,
    pages: tally.pages,
    duplicates_skipped: tally.duplicates,
    without_memory_id: tally.withoutId,
    total_reported: tally.lastTotal ?? null,
    total_at_start: tally.firstTotal ?? null,
    total_changed: tally.totalChanges.length > 0,
    resumed_from_page: resume && resume.page > 1 ? resume.page : null,
    /** Passes over the listing after the last page that looked for memories the paging missed. */
    verify_passes: verified.passes,
    /** Memories those passes found missing and wrote. */
    recovered_by_verify: verified.recovered,
    /** False when the reader closed stdout before the end (`| head`). */
    complete,
    /**
     * True when the export cannot vouch that it holds every memory: the reader closed stdout, or
     * no verification pass showed the listing complete (it kept changing, or its totals did not
     * add up). The command then exits 3.
     */
    partial: !complete || !verified.shown,
    elapsed_ms: elapsed,
    memories_per_s: elapsed > 0 ? Math.round((thisRun / elapsed) * 1000) : thisRun,
    warnings,
  };
}

/** What the export says about its completeness at the end (warnings; none when all is well). */
function completenessWarnings(
  tally: MemoryPaginator['tally'],
  verified: { passes: number; recovered: number; shown: boolean },
): string[] {
  const out = totalChangeWarnings(tally);
  if (verified.recovered > 0) {
    out.push(
      `${verified.recovered} memories were skipped by the paging (the listing changed while it ` +
        'was read) and found by listing again; they are at the end of the output',
    );
  }
  if (!verified.shown) {
    out.push(
      `completeness could not be shown: after ${verified.passes} verification pass(es) the ` +
        'listing still changed or its totals did not add up; memories may be missing: run the ' +
        'export again when the data is quiet',
    );
  }
  return out;
}
