import type { CreateMemoryRequest } from '../client/types.js';
import { unconfirmedOf, type IngestSummary } from '../ingest/summary.js';
import { shellQuote } from '../command-line.js';
import { describeCreditCheck } from './credits.js';
import { redactSecrets } from '../redact.js';
import { renderKeyValue } from './table.js';

const grouped = new Intl.NumberFormat('en-US');
/** Numbers as people read them (1,234) on a terminal; as scripts parse them (1234) in logs. */
type NumberFormat = (n: number) => string;
const forPeople: NumberFormat = (n) => grouped.format(n);
const forLogs: NumberFormat = (n) => String(n);

function summaryPairs(s: IngestSummary, num: NumberFormat = forPeople): [string, string][] {
  const pairs: [string, string][] = [];
  pairs.push(['status', s.dry_run ? `${s.status} (dry run: nothing sent)` : s.status]);
  if (s.shard !== undefined) pairs.push(['shard', `${s.shard} (by ${s.shard_by ?? 'record'})`]);
  const e = s.earlier_runs;
  const resumed = s.resumed_past > 0 || e.accepted + e.skipped + e.failed > 0;
  if (resumed && !s.dry_run) {
    // Three scopes, each named: what this run did, what the runs it resumed did, the total.
    const counts = (a: number, k: number, f: number) =>
      `${num(a)} accepted, ${num(k)} skipped, ${num(f)} failed`;
    if (s.resumed_past > 0) pairs.push(['resuming after', `record ${num(s.resumed_past)}`]);
    pairs.push([
      'this run',
      `${num(s.records_read)} read, ${num(s.sent)} sent: ` +
        counts(s.accepted - e.accepted, s.skipped - e.skipped, s.failed - e.failed),
    ]);
    if (s.unchanged > 0) pairs.push(unchangedPair(num(s.unchanged)));
    if (s.updated > 0) pairs.push(['of which updated', num(s.updated)]);
    if (s.kept_earlier !== undefined) {
      pairs.push(['kept earlier version', `${num(s.kept_earlier)} (changed records refused)`]);
    }
    if (s.other_shards !== undefined) {
      pairs.push(['other shards', `${num(s.other_shards)} (passed over)`]);
    }
    pairs.push(['earlier runs', counts(e.accepted, e.skipped, e.failed)]);
    pairs.push(['whole input', counts(s.accepted, s.skipped, s.failed)]);
  } else {
    pairs.push(['records read', num(s.records_read)]);
    if (s.other_shards !== undefined) {
      pairs.push(['other shards', `${num(s.other_shards)} (passed over)`]);
    }
    if (s.resumed_past > 0)
      pairs.push(['resumed past', `${num(s.resumed_past)} (settled earlier)`]);
    if (s.unchanged > 0) pairs.push(unchangedPair(num(s.unchanged)));
    if (s.dry_run) {
      pairs.push(['valid (would send)', num(s.sent)]);
      if (s.updated > 0) pairs.push(['of which updates', num(s.updated)]);
    } else {
      pairs.push(['sent', num(s.sent)]);
      pairs.push(['accepted', num(s.accepted)]);
      if (s.updated > 0) pairs.push(['of which updated', num(s.updated)]);
      pairs.push(['skipped (already ingested)', num(s.skipped)]);
      if (s.kept_earlier !== undefined) {
        pairs.push(['kept earlier version', `${num(s.kept_earlier)} (changed records refused)`]);
      }
    }
    pairs.push(['failed', num(s.failed)]);
  }
  if (s.skipped_empty !== undefined) {
    pairs.push(['skipped (no turns to send)', num(s.skipped_empty)]);
  }
  if (s.files_skipped !== undefined) {
    const { binary, no_format } = s.files_skipped;
    const why = [
      ...(binary > 0 ? [`${num(binary)} binary`] : []),
      ...(no_format > 0 ? [`${num(no_format)} in no format synap reads`] : []),
    ];
    pairs.push(['files skipped', `${num(binary + no_format)} (${why.join(', ')})`]);
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
    const w = s.wait;
    // error and cancelled are named only when they happened (the SDK's extra final statuses).
    const extra =
      (w.error > 0 ? `, ${num(w.error)} error` : '') +
      (w.cancelled > 0 ? `, ${num(w.cancelled)} cancelled` : '');
    pairs.push([
      'ingestion',
      `${num(w.completed)} completed, ${num(w.partial_success)} partial, ` +
        `${num(w.failed)} failed${extra}, ${num(w.unfinished)} unfinished` +
        (w.timed_out ? ' (--wait-timeout reached)' : ''),
    ]);
  }
  if (s.outcome_unknown) {
    pairs.push(['outcome unknown', `${num(s.outcome_unknown.records)} (may or may not be stored)`]);
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
    /** Where --show's documents go: they are data (stdout by default). */
    data?: NodeJS.WritableStream;
  },
): void {
  const stream = opts.stream ?? process.stderr;
  const shown: string[] = [];
  const lines: string[] = [];
  // --quiet keeps only what needs acting on (how to resume, where the failures are).
  if (!opts.quiet) {
    const tty = (stream as NodeJS.WriteStream).isTTY === true;
    lines.push(
      renderKeyValue(summaryPairs(s, tty ? forPeople : forLogs), { color: opts.color, stream }),
    );
  }
  if (!opts.quiet && s.dry_run && s.samples && s.samples.length > 0) {
    if (s.show !== undefined) {
      // --show: whole, exactly as they would be sent.
      const n = s.samples.length;
      lines.push(
        `${n === 1 ? 'the first document, as it would be sent' : `the first ${n} documents, as they would be sent`} (on stdout)`,
      );
      for (const sample of s.samples) shown.push(JSON.stringify(sample, null, 2));
    } else {
      lines.push(`sample payloads (${s.samples.length}):`);
      for (const sample of s.samples) lines.push(samplePayload(sample));
    }
  }
  if (!opts.quiet && s.dry_run && s.show !== undefined && !s.samples?.length && s.unchanged > 0) {
    // The ledger keeps back what the instance holds: a preview of an export sent before.
    lines.push(
      `nothing to show: ${s.unchanged === 1 ? 'the record read is' : `the ${s.unchanged} records read are`} held by the instance as they are (unchanged); --resend shows them`,
    );
  }
  for (const hint of nextSteps(s, opts.retryCommand)) lines.push(hint);
  if (shown.length > 0) (opts.data ?? process.stdout).write(`${redactSecrets(shown.join('\n'))}\n`);
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

/** What to do about records their source format could not read. */
const FIX_IN_SOURCE_LOWER =
  'fix them there (the failures file says where) and run the same command again (what is stored is not sent again).';
const FIX_IN_SOURCE = `They could not be read from their source: ${FIX_IN_SOURCE_LOWER}`;

/** What marks an OUTCOME_UNKNOWN line of a failures file (its error follows the record). */
const UNKNOWN_MARK = '"error":{"code":"OUTCOME_UNKNOWN"';

/** Records this run read that it neither stored, skipped nor recorded as failed. */
function unsettled(s: IngestSummary): number {
  const e = s.earlier_runs;
  // This run's: records the instance holds unchanged were read and settled without a request.
  const unchanged = s.unchanged - e.unchanged;
  const settled =
    s.accepted - e.accepted + (s.skipped - e.skipped) + (s.failed - e.failed) + unchanged;
  return Math.max(0, s.records_read - settled);
}

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
    const open = unsettled(s);
    if (open > 0) {
      out.push(
        `${forPeople(open)} record(s) were not stored yet and are in no failures file: running the same command again sends them.`,
      );
    }
  } else if (s.status === 'aborted' && s.state_files.length > 0) {
    out.push(
      `progress is saved in ${s.state_files.join(', ')}; once the error below is dealt with, run the same command again to continue.`,
    );
  }
  if (s.kept_earlier !== undefined) {
    const n = s.kept_earlier;
    const one = n === 1;
    const ids = s.kept_earlier_ids ?? [];
    const named = ids.length === 0 ? '' : ` (${ids.join(', ')}${ids.length < n ? ', …' : ''})`;
    out.push(
      `${forPeople(n)} record${one ? '' : 's'}${named} changed since ${one ? 'it was' : 'they were'} sent, but the service kept its earlier version ` +
        `(already ingested under the same document_id); ${one ? 'it is' : 'they are'} not sent again while ${one ? 'it stays' : 'they stay'} as ${one ? 'it is' : 'they are'}. ` +
        "To change a stored memory: 'synap memories update <memory_id> --document … --merge-strategy replace'; " +
        'to store the edit as a document of its own: give the record a new document_id.',
    );
  }
  const e = s.earlier_runs;
  // What the instance holds already (the ledger's unchanged) is stored too.
  const stored = s.accepted + s.skipped + s.unchanged + e.accepted + e.skipped + e.unchanged;
  // Not when some outcomes are unknown: those records may well be stored.
  const known = s.outcome_unknown === undefined;
  if (
    !s.dry_run &&
    s.failed > 0 &&
    files !== '' &&
    stored === 0 &&
    known &&
    s.status !== 'interrupted'
  ) {
    // Said plainly: a run where nothing got through is a problem with the whole input, its
    // mapping or the server, not with a few records.
    out.push(
      `every record failed and nothing was stored: the same cause is likely behind all of them (the first lines of ${files} say which).`,
    );
  }
  const unknown = s.outcome_unknown;
  const failed = `${forPeople(s.failed)} record(s) failed; see ${files}.`;
  if (s.failed > 0 && files !== '' && unknown && unknown.without_document_id > 0) {
    // Sending these again blindly could store them twice: the command offered leaves them out.
    out.push(
      `${failed} ${forPeople(unknown.records)} of them may or may not be stored (OUTCOME_UNKNOWN)` +
        `${unknown.without_document_id < unknown.records ? `, ${forPeople(unknown.without_document_id)} without a document_id` : ' and have no document_id'}: ` +
        'sending them again could store them twice, so check for them first (synap memories list).',
    );
    const [only] = s.failures_files;
    if (s.failures_files.length === 1 && only !== undefined && s.failed > unknown.records) {
      const rest = `${only}.retry.jsonl`;
      out.push(
        `To send the other failed records again: grep -v -F ${shellQuote(UNKNOWN_MARK)} ${shellQuote(only)} > ${shellQuote(rest)} && ${retry([rest])}`,
      );
    }
  } else if (s.failed > 0 && files !== '' && s.failed_in_source === s.failed) {
    // Not the failures file: what its source format could not read, it cannot read either.
    out.push(`${failed} ${FIX_IN_SOURCE}`);
  } else if (s.failed > 0 && files !== '') {
    out.push(`${failed} Fix them and run: ${retry(s.failures_files)}`);
    if (s.failed_in_source !== undefined) {
      out.push(
        `${forPeople(s.failed_in_source)} of them could not be read from their source: that command cannot send them; ${FIX_IN_SOURCE_LOWER}`,
      );
    }
    if (unknown) {
      out.push(
        `${forPeople(unknown.records)} of them may or may not be stored (OUTCOME_UNKNOWN); that command is safe for them: ` +
          'each has a document_id, so one that was stored comes back as already ingested.',
      );
    }
  }
  const w = s.wait;
  if (s.status === 'partial' && w && unconfirmedOf(w) > 0) {
    const extra =
      (w.error > 0 ? `, ${forPeople(w.error)} error` : '') +
      (w.cancelled > 0 ? `, ${forPeople(w.cancelled)} cancelled` : '');
    out.push(
      `processing not confirmed for ${forPeople(unconfirmedOf(w))} document(s) ` +
        `(${forPeople(w.failed)} failed, ${forPeople(w.partial_success)} partial${extra}, ${forPeople(w.unfinished)} unfinished` +
        `${w.timed_out ? ', the wait ended at --wait-timeout' : ''}); check them with synap memories status.`,
    );
  }
  return out;
}

/** Records the instance already holds with the same body (the ledger), so not sent. */
function unchangedPair(n: string): [string, string] {
  return ['unchanged', `${n} (held by the instance; not sent)`];
}
