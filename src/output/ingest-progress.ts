import type { EntriesEvent } from '../ingest/readers/zip.js';
import type { IngestProgress, IngestReporter, InputStartEvent } from '../ingest/reporter.js';
import type { FailureLine } from '../ingest/failures-file.js';
import type { StopReason } from '../ingest/summary.js';
import { LineLog } from './notices.js';
import { createProgress } from './progress.js';

// Made on first use: the first Intl.NumberFormat of a process loads ICU data (~20 ms), which
// an ingest that draws no progress (--json, --quiet) should not wait for before it starts.
let numbers: Intl.NumberFormat | undefined;
const fmt = { format: (n: number) => (numbers ??= new Intl.NumberFormat('en-US')).format(n) };
/** Failures printed one by one; after that only a count. */
const FAILURE_PRINT_CAP = 20;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** How far along a run is and how fast it settles records; see SettleRate. */
export interface IngestPace {
  /** Records settled in the current input (resumed ones included). */
  settled: number;
  /** Records per second being settled, when known. */
  perSecond: number | undefined;
  /** Time left for the current input, when an estimate of its size and a rate are known. */
  etaMs: number | undefined;
}

/**
 * The settling rate: records that got their outcome (stored, skipped, failed), not records
 * read, since reading runs ahead of sending; measured over a sliding window, and set against
 * what the limiter's pace allows (requests per second × records per request). Records passed
 * over by a resume are left out of the rate.
 */
export class SettleRate {
  private readonly samples: { t: number; n: number }[] = [];
  private base = 0;
  private lastSettled = 0;
  private rateLimited = 0;

  constructor(private readonly windowMs = 10_000) {}

  /** A new input starts: its progress counts from here. */
  startInput(): void {
    this.base = this.lastSettled;
  }

  pace(p: IngestProgress): IngestPace {
    this.lastSettled = p.settled;
    const resumed = p.done - p.read;
    const worked = p.settled - resumed;
    // The window opens at the first settled record, and again after a 429: connecting, and
    // waiting out a limit being learnt, say nothing about the pace from here on.
    if (this.samples.length > 0 && this.samples[0]!.n === 0 && worked > 0) this.samples.length = 0;
    if (p.rateLimited > this.rateLimited) this.samples.length = 0;
    this.rateLimited = p.rateLimited;
    this.samples.push({ t: p.elapsedMs, n: worked });
    while (this.samples.length > 2 && this.samples[1]!.t <= p.elapsedMs - this.windowMs) {
      this.samples.shift();
    }
    const first = this.samples[0]!;
    const spanMs = p.elapsedMs - first.t;
    // Measured once a second has passed and something settled in it (batches land in steps).
    const seen = spanMs >= 1000 && worked > first.n ? (worked - first.n) / spanMs : undefined;
    const answered = p.requests - p.rateLimited - p.retries;
    const allowed =
      p.paceRpm !== undefined && answered > 0 && p.sent > 0 && !p.dryRun
        ? (p.paceRpm / 60_000) * (p.sent / answered)
        : undefined;
    // The limiter's pace is the ceiling, and where the run is near it, the best guess: what is
    // seen early includes connecting and learning the limit. A run well below it is held back
    // elsewhere (a slow server, low concurrency), and then what is seen is what counts.
    let perMs: number | undefined;
    if (allowed === undefined) perMs = seen;
    else if (seen === undefined || seen >= allowed / 2) perMs = allowed;
    else perMs = seen;
    const settled = p.settled - this.base;
    let etaMs: number | undefined;
    if (p.estimatedTotal !== undefined && perMs !== undefined && perMs > 0) {
      const left = Math.max(0, Math.max(p.estimatedTotal, settled) - settled);
      etaMs = left / perMs + p.rateLimitedMs;
    }
    return { settled, perSecond: perMs === undefined ? undefined : perMs * 1000, etaMs };
  }
}

/** `ingesting a.jsonl: 1,200 / ~20,000 records (6%), 310/s, ETA 1m01s, … waiting 12s (rate limited)` */
export function ingestProgressText(p: IngestProgress, pace: IngestPace): string {
  const parts: string[] = [];
  const verb = p.dryRun ? 'checking' : 'ingesting';
  const rate = pace.perSecond === undefined ? '…/s' : `${fmt.format(Math.round(pace.perSecond))}/s`;
  if (p.estimatedTotal !== undefined && p.estimatedTotal > 0) {
    const total = Math.max(p.estimatedTotal, pace.settled);
    const pct = Math.min(100, Math.floor((pace.settled / total) * 100));
    parts.push(
      `${verb} ${p.source}: ${fmt.format(pace.settled)} / ~${fmt.format(total)} records (${pct}%)`,
    );
    parts.push(rate);
    if (pace.etaMs !== undefined && total > pace.settled) parts.push(`ETA ${duration(pace.etaMs)}`);
  } else {
    parts.push(`${verb} ${p.source}: ${fmt.format(pace.settled)} records`);
    parts.push(rate);
  }
  if (!p.dryRun) parts.push(`${fmt.format(p.accepted)} accepted, ${fmt.format(p.skipped)} skipped`);
  if (p.failed > 0) parts.push(`${fmt.format(p.failed)} failed`);
  if (p.rateLimitedMs > 0)
    parts.push(`waiting ${Math.ceil(p.rateLimitedMs / 1000)}s (rate limited)`);
  return parts.join(', ');
}

/** `data.csv:42 INVALID_INPUT document is missing (correlation id …)` */
function failureText(f: FailureLine): string {
  const where = f.line > 0 ? `${f.source}:${f.line}` : f.source;
  const status = f.error.status !== null ? ` ${f.error.status}` : '';
  const cid = f.correlation_id ? ` (correlation id ${f.correlation_id})` : '';
  return `failed: ${where} ${f.error.code}${status}: ${f.error.message}${cid}`;
}

const FINISHING = 'finishing the requests in flight and saving progress';
const STOP_TEXT: Record<StopReason, string> = {
  interrupted: `interrupted: stopped reading; ${FINISHING} (Ctrl-C again to quit at once)`,
  'max-duration': `--max-duration reached: ${FINISHING}`,
  'max-errors': `--max-errors reached: ${FINISHING}`,
  'fail-fast': `--fail-fast: a record failed; ${FINISHING}`,
  'retry-budget': `too many failed requests (retry budget exhausted): ${FINISHING}`,
  'retry-after': `the server asked to wait longer than --max-retry-after: ${FINISHING}`,
};

export interface IngestDisplayOptions {
  quiet: boolean;
  color: boolean;
  stream?: NodeJS.WritableStream;
  isTTY?: boolean;
}

/**
 * The ingest reporter for people: a spinner line (TTY) or a plain line every 10 s, each failure
 * once (first 20, then a count), stop notices. `done()` clears the line before the summary.
 */
export function createIngestDisplay(opts: IngestDisplayOptions): IngestReporter & { done(): void } {
  const stream = opts.stream ?? process.stderr;
  const progress = createProgress(opts);
  let printed = 0;
  // Where the failures of the input being read go: none in a dry run.
  let failuresFile: string | null = null;
  let started = false;
  const rate = new SettleRate();
  const foldersSaid = new Set<string>();
  // Failures and stop notices are shown even with --quiet: they are what went wrong.
  const tty = opts.isTTY ?? (stream as NodeJS.WriteStream).isTTY === true;
  const early = new LineLog(stream, { timestamps: !tty });
  const say = (line: string) => {
    if (started && !opts.quiet) progress.log(line);
    else early.write(line);
  };
  return {
    onInputStart(e: InputStartEvent) {
      const resumed = e.resumedFrom
        ? ` (resuming after record ${fmt.format(e.resumedFrom.records)}, line ${fmt.format(e.resumedFrom.line)})`
        : '';
      const text = `ingesting ${e.source}${resumed}`;
      // Shown even with --quiet: the user needs to know where to find these files.
      // For the files of a folder, once for the folder: the same for each of its files.
      const folder = e.filesIn?.folder;
      if (folder !== undefined && !foldersSaid.has(folder)) {
        foldersSaid.add(folder);
        say(
          `note: ${folder}: synap does not write into a folder it reads; the state, lock and failures files of its files are kept in ${e.filesIn!.dir}`,
        );
      } else if (e.filesIn && folder === undefined) {
        const what = e.stateFile ? 'state, lock and failures files are' : 'failures file is';
        say(`note: ${e.source}: ${e.filesIn.why}; its ${what} kept in ${e.filesIn.dir}`);
      }
      // In a terminal the spinner's text is replaced at the first update: where the run resumes
      // is a line of its own there, as it is in a log.
      if (e.resumedFrom && tty && !opts.quiet) {
        say(
          `resuming ${e.source} after record ${fmt.format(e.resumedFrom.records)} (line ${fmt.format(e.resumedFrom.line)})`,
        );
      }
      failuresFile = e.failuresFile;
      rate.startInput();
      if (!started) progress.start(text);
      else progress.update(text);
      started = true;
    },
    onProgress(p) {
      progress.update(ingestProgressText(p, rate.pace(p)));
    },
    onFailure(f) {
      if (printed === FAILURE_PRINT_CAP) return;
      printed += 1;
      say(failureText(f));
      if (printed === FAILURE_PRINT_CAP) {
        say(
          failuresFile
            ? `(further failures are counted, not printed; see ${failuresFile})`
            : '(further failures are counted, not printed; a dry run writes no failures file)',
        );
      }
    },
    onStopping(e) {
      say(`synap: ${STOP_TEXT[e.reason]}`);
    },
    onEntries(e) {
      say(entriesText(e));
    },
    onWarning(w) {
      say(`warning: ${w.message}`);
    },
    onWaitProgress(e) {
      progress.update(
        `waiting for ingestion: ${fmt.format(e.done)} / ${fmt.format(e.total)} finished`,
      );
    },
    done() {
      progress.stop();
    },
  };
}

/**
 * `note: export.zip: reading conversations.json (chatgpt); ignored: user.json (not part of …),
 * 3 more (no input format claims its name)`; refused entries are failures and shown as such.
 */
function entriesText(e: EntriesEvent): string {
  const used =
    e.used.length === 0
      ? 'no entry to read'
      : `reading ${e.used.map((u) => `${u.name} (${u.format})`).join(', ')}`;
  const byWhy = new Map<string, string[]>();
  for (const i of e.ignored) byWhy.set(i.why, [...(byWhy.get(i.why) ?? []), i.name]);
  const ignored = [...byWhy].map(([why, names]) => {
    const shown = names.slice(0, 3).join(', ');
    const more = names.length > 3 ? ` and ${names.length - 3} more` : '';
    return `${shown}${more} (${why})`;
  });
  const refused =
    e.refused.length > 0 ? `; refused: ${e.refused.map((r) => r.name).join(', ')}` : '';
  return `note: ${e.source}: ${used}${ignored.length > 0 ? `; ignored: ${ignored.join('; ')}` : ''}${refused}`;
}
