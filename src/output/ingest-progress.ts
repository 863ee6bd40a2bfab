import type { IngestProgress, IngestReporter, InputStartEvent } from '../ingest/reporter.js';
import type { FailureLine } from '../ingest/failures-file.js';
import type { StopReason } from '../ingest/summary.js';
import { createProgress, type Progress } from './progress.js';
import { redactSecrets } from './redact.js';

const fmt = new Intl.NumberFormat('en-US');
/** Failures printed one by one; after that only a count. */
export const FAILURE_PRINT_CAP = 20;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `1,200 / ~20,000 records (6%), 310/s, ETA 1m01s, 2 failed, waiting 12s (rate limited)` */
export function ingestProgressText(p: IngestProgress): string {
  const rate = p.elapsedMs > 0 ? (p.read / p.elapsedMs) * 1000 : 0;
  const parts: string[] = [];
  const verb = p.dryRun ? 'checking' : 'ingesting';
  if (p.estimatedTotal !== undefined && p.estimatedTotal > 0) {
    const total = Math.max(p.estimatedTotal, p.done);
    const pct = Math.min(100, Math.floor((p.done / total) * 100));
    parts.push(
      `${verb} ${p.source}: ${fmt.format(p.done)} / ~${fmt.format(total)} records (${pct}%)`,
    );
    parts.push(`${fmt.format(Math.round(rate))}/s`);
    if (rate > 0 && total > p.done) parts.push(`ETA ${duration(((total - p.done) / rate) * 1000)}`);
  } else {
    parts.push(`${verb} ${p.source}: ${fmt.format(p.done)} records`);
    parts.push(`${fmt.format(Math.round(rate))}/s`);
  }
  if (!p.dryRun) parts.push(`${fmt.format(p.accepted)} accepted, ${fmt.format(p.skipped)} skipped`);
  if (p.failed > 0) parts.push(`${fmt.format(p.failed)} failed`);
  if (p.rateLimitedMs > 0)
    parts.push(`waiting ${Math.ceil(p.rateLimitedMs / 1000)}s (rate limited)`);
  return parts.join(', ');
}

/** `data.csv:42 INVALID_INPUT document is missing (correlation id …)` */
export function failureText(f: FailureLine): string {
  const where = f.line > 0 ? `${f.source}:${f.line}` : f.source;
  const status = f.error.status !== null ? ` ${f.error.status}` : '';
  const cid = f.correlation_id ? ` (correlation id ${f.correlation_id})` : '';
  return `failed: ${where} ${f.error.code}${status}: ${f.error.message}${cid}`;
}

const STOP_TEXT: Record<StopReason, string> = {
  interrupted:
    'interrupted: stopped reading; finishing the requests in flight and saving progress (Ctrl-C again to quit at once)',
  'max-duration': '--max-duration reached: finishing the requests in flight and saving progress',
  'max-errors': '--max-errors reached: finishing the requests in flight and saving progress',
  'fail-fast': '--fail-fast: a record failed; finishing the requests in flight and saving progress',
  'retry-budget':
    'too many failed requests (retry budget exhausted): finishing the requests in flight and saving progress',
};

export interface IngestDisplayOptions {
  quiet: boolean;
  color: boolean;
  stream?: NodeJS.WritableStream;
  isTTY?: boolean;
  intervalMs?: number;
}

/**
 * The ingest reporter for people: a spinner line (TTY) or a plain line every 10 s, each failure
 * once (first 20, then a count), stop notices. `done()` clears the line before the summary.
 */
export function createIngestDisplay(
  opts: IngestDisplayOptions,
): IngestReporter & { done(): void; failuresNotPrinted(): number } {
  const stream = opts.stream ?? process.stderr;
  const progress: Progress = createProgress({
    quiet: opts.quiet,
    color: opts.color,
    stream,
    ...(opts.isTTY !== undefined ? { isTTY: opts.isTTY } : {}),
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
  });
  let printed = 0;
  let unprinted = 0;
  let started = false;
  // Failures and stop notices are shown even with --quiet: they are what went wrong.
  const say = (line: string) => {
    if (started) progress.log(line);
    else stream.write(`${redactSecrets(line)}\n`);
  };
  return {
    onInputStart(e: InputStartEvent) {
      const resumed = e.resumedFrom
        ? ` (resuming after record ${fmt.format(e.resumedFrom.records)}, line ${fmt.format(e.resumedFrom.line)})`
        : '';
      const text = `ingesting ${e.source}${resumed}`;
      if (!started) progress.start(text);
      else progress.update(text);
      started = true;
    },
    onProgress(p) {
      progress.update(ingestProgressText(p));
    },
    onFailure(f) {
      if (printed < FAILURE_PRINT_CAP) {
        printed += 1;
        say(failureText(f));
        if (printed === FAILURE_PRINT_CAP)
          say(`(further failures are counted, not printed; see the failures file)`);
      } else {
        unprinted += 1;
      }
    },
    onStopping(e) {
      say(`synap: ${STOP_TEXT[e.reason]}`);
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
    failuresNotPrinted: () => unprinted,
  };
}
