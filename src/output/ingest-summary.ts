import type { CreateMemoryRequest } from '../client/types.js';
import type { IngestSummary } from '../ingest/summary.js';
import { shellQuote } from '../commands/command-line.js';
import { describeCreditCheck } from './credits.js';
import { redactSecrets } from './redact.js';
import { renderKeyValue } from './table.js';

const grouped = new Intl.NumberFormat('en-US');
/** Numbers as people read them (1,234) on a terminal; as scripts parse them (1234) in logs. */
type NumberFormat = (n: number) => string;
const forPeople: NumberFormat = (n) => grouped.format(n);
const forLogs: NumberFormat = (n) => String(n);

export function summaryPairs(s: IngestSummary, num: NumberFormat = forPeople): [string, string][] {
  const pairs: [string, string][] = [];
  pairs.push(['status', s.dry_run ? `${s.status} (dry run: nothing sent)` : s.status]);
  if (s.shard !== undefined) pairs.push(['shard', `${s.shard} (by ${s.shard_by ?? 'record'})`]);
  pairs.push(['records read', num(s.records_read)]);
  if (s.other_shards !== undefined) {
    pairs.push(['other shards', `${num(s.other_shards)} (passed over)`]);
  }
  if (s.resumed_past > 0) pairs.push(['resumed past', `${num(s.resumed_past)} (settled earlier)`]);
  if (s.unchanged > 0)
    pairs.push(['unchanged', `${num(s.unchanged)} (held by the instance; not sent)`]);
  if (s.dry_run) {
    pairs.push(['valid (would send)', num(s.sent)]);
    if (s.updated > 0) pairs.push(['of which updates', num(s.updated)]);
  } else {
    pairs.push(['sent', num(s.sent)]);
    pairs.push(['accepted', num(s.accepted)]);
    if (s.updated > 0) pairs.push(['of which updated', num(s.updated)]);
    pairs.push(['skipped (already ingested)', num(s.skipped)]);
  }
  pairs.push(['failed', num(s.failed)]);
  const e = s.earlier_runs;
  if (e && e.accepted + e.skipped + e.failed > 0) {
    pairs.push([
      'of which earlier runs',
      `${num(e.accepted)} accepted, ${num(e.skipped)} skipped, ${num(e.failed)} failed`,
    ]);
  }
  if (!s.dry_run) {
    pairs.push(['requests', num(s.requests)]);
    pairs.push(['429s', num(s.rate_limited)]);
    pairs.push(['retries', num(s.retries)]);
  }
  // A check without figures was a warning already.
  if (s.credits && !s.credits.note) pairs.push(['credits', describeCreditCheck(s.credits)]);
  pairs.push(['elapsed', `${s.elapsed_s.toFixed(1)} s`]);
  pairs.push(['records/s', num(s.records_per_s)]);
  if (s.wait) {
    pairs.push([
      'ingestion',
      `${num(s.wait.completed)} completed, ${num(s.wait.partial_success)} partial, ` +
        `${num(s.wait.failed)} failed, ${num(s.wait.unfinished)} unfinished`,
    ]);
  }
  pairs.push([
    'failures file',
    s.failures_files.length > 0 ? s.failures_files.join(', ') : '(none)',
  ]);
  pairs.push(['state file', s.state_files.length > 0 ? s.state_files.join(', ') : '(none)']);
  return pairs;
}

/** The human summary on stderr: a table, then the dry-run samples and what to do next. */
export function printIngestSummary(
  s: IngestSummary,
  opts: {
    color: boolean;
    quiet?: boolean;
    stream?: NodeJS.WritableStream;
    /** The command that ingests the failures files (the user's own line, changed). */
    retryCommand?: RetryCommand;
  },
): void {
  const stream = opts.stream ?? process.stderr;
  const lines: string[] = [];
  // --quiet keeps only what needs acting on (how to resume, where the failures are).
  if (!opts.quiet) {
    const tty = (stream as NodeJS.WriteStream).isTTY === true;
    lines.push(
      renderKeyValue(summaryPairs(s, tty ? forPeople : forLogs), { color: opts.color, stream }),
    );
  }
  if (!opts.quiet && s.dry_run && s.samples && s.samples.length > 0) {
    lines.push(`sample payloads (${s.samples.length}):`);
    for (const sample of s.samples) lines.push(samplePayload(sample));
  }
  for (const hint of nextSteps(s, opts.retryCommand)) lines.push(hint);
  if (lines.length === 0) return;
  stream.write(`${redactSecrets(lines.join('\n'))}\n`);
}

function samplePayload(r: CreateMemoryRequest): string {
  const doc = r.document.length > 200 ? `${r.document.slice(0, 200)}…` : r.document;
  return JSON.stringify({ ...r, document: doc }, null, 2);
}

/** The command line that ingests these failures files. */
export type RetryCommand = (failuresFiles: string[]) => string;

const plainRetry: RetryCommand = (files) => ['synap', 'ingest', ...files].map(shellQuote).join(' ');

/** What the user should do after a run that did not simply succeed. */
export function nextSteps(s: IngestSummary, retry: RetryCommand = plainRetry): string[] {
  const out: string[] = [];
  const files = s.failures_files.join(' ');
  if (s.status === 'interrupted') {
    out.push('interrupted: progress is saved; run the same command again to resume.');
  } else if (s.status === 'stopped') {
    const why: Record<string, string> = {
      'max-duration': '--max-duration reached',
      'max-errors': '--max-errors reached',
      'fail-fast': 'stopped at the first failure (--fail-fast)',
      'retry-budget':
        'too many failed requests (retry budget exhausted); the server looks unhealthy',
      'retry-after':
        'the server asked to wait longer than --max-retry-after (see the warning above)',
    };
    out.push(
      `stopped early: ${why[s.stop_reason ?? ''] ?? s.stop_reason}. Progress is saved; run the same command again to continue.`,
    );
  } else if (s.status === 'aborted' && s.state_files.length > 0) {
    out.push(
      `progress is saved in ${s.state_files.join(', ')}; once the error below is dealt with, run the same command again to continue.`,
    );
  }
  const e = s.earlier_runs;
  const stored = s.accepted + s.skipped + (e ? e.accepted + e.skipped : 0);
  if (!s.dry_run && s.failed > 0 && stored === 0 && s.status !== 'interrupted') {
    // Said plainly: a run where nothing got through is a problem with the whole input, its
    // mapping or the server, not with a few records.
    out.push(
      `every record failed and nothing was stored: the same cause is likely behind all of them (the first lines of ${files || 'the failures file'} say which).`,
    );
  }
  if (s.failed > 0 && files !== '') {
    out.push(
      `${forPeople(s.failed)} record(s) failed; see ${files}. Fix them and run: ${retry(s.failures_files)}`,
    );
  }
  const w = s.wait;
  if (s.status === 'partial' && w && w.failed + w.partial_success + w.unfinished > 0) {
    out.push(
      `processing not confirmed for ${forPeople(w.failed + w.partial_success + w.unfinished)} document(s) ` +
        `(${forPeople(w.failed)} failed, ${forPeople(w.partial_success)} partial, ${forPeople(w.unfinished)} unfinished); ` +
        'check them with synap memories status.',
    );
  }
  return out;
}
