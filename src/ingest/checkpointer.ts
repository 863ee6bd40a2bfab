import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { hashOptions, optionDifferences, StateFile, type StateHeader } from '../state-file.js';
import type { FailuresSink } from './failures-file.js';
import type { InputIdentity } from './readers/index.js';
import type { SettlementTracker } from './settlement.js';
import type { ReadPosition } from './source-record.js';

/** The options that shape what is sent; a resume must use the same ones. */
export interface RequestShape {
  base_url: string;
  profile: string;
  format: string | null;
  map: Record<string, string>;
  document_type: string | null;
  mode: string | null;
  user_id: string | null;
  customer_id: string | null;
  metadata: Record<string, unknown>;
  id_from: 'hash' | 'none';
  /** `--scope`, only when given (so runs without one keep the hash they always had). */
  scope?: Record<string, string>;
}

const SHAPE_FLAGS: Record<keyof RequestShape, string> = {
  base_url: 'base URL',
  profile: '--profile',
  format: '--format',
  map: '--map',
  document_type: '--document-type',
  mode: '--mode',
  user_id: '--user-id',
  customer_id: '--customer-id',
  metadata: '--metadata',
  id_from: '--id-from',
  scope: '--scope',
};

/**
 * The checkpoint of one input, in `<input>.synap-state.json`. The watermark counts records in
 * read order: every one of the first `settled_records` records of the input is settled
 * (accepted, skipped, or written to the failures file), so a resume skips exactly those.
 * Counting records rather than lines keeps it exact when a line holds several records (a JSON
 * array on one line); `watermark_line` is the line of the last of them, for people.
 */
export interface IngestState extends StateHeader<'ingest'> {
  input: { path: string; size: number; fingerprint: string };
  options_hash: string;
  shape: RequestShape;
  settled_records: number;
  watermark_line: number;
  /**
   * Where a resume starts reading (absent in states of older versions: from the start). The
   * first `records` records are exactly those starting on lines up to `line`; the reader skips
   * those lines without parsing them, and `seek` (plain JSON Lines) is a byte offset at or
   * before them to open the file at instead of reading from its start.
   */
  resume_from?: { records: number; line: number; seek: ReadPosition | null };
  counts: { read: number; accepted: number; skipped: number; failed: number };
  failures_file: string | null;
  started_at: string;
  updated_at: string;
}

const RESTART_HINT = 'Add --restart to start over (records already stored come back as skipped).';

/** The state file of an ingest of `input`. */
export function ingestStateFile(input: string): StateFile<'ingest', IngestState> {
  return new StateFile<'ingest', IngestState>('ingest', input, {
    complete: (s) =>
      typeof s.settled_records === 'number' &&
      typeof s.options_hash === 'string' &&
      s.input !== undefined &&
      s.counts !== undefined,
    restartHint:
      'Add --restart to ingest the input from the beginning (already stored records are skipped).',
  });
}

export function hashShape(shape: RequestShape): string {
  return hashOptions(shape);
}

/**
 * Checks that a saved state belongs to this input and these options. A changed input or
 * changed options would make the watermark mean something else, so both are refused.
 */
export function checkResumable(
  state: IngestState,
  statePath: string,
  identity: InputIdentity,
  shape: RequestShape,
): void {
  if (state.input.size !== identity.size || state.input.fingerprint !== identity.fingerprint) {
    throw new UsageError(
      `${identity.path} changed since the interrupted run recorded in ${statePath} ` +
        `(size ${state.input.size} → ${identity.size}); cannot resume`,
      { hints: [RESTART_HINT] },
    );
  }
  if (state.options_hash !== hashShape(shape)) {
    const diff = optionDifferences(state.shape, shape, SHAPE_FLAGS);
    throw new UsageError(
      `the options differ from the interrupted run recorded in ${statePath}` +
        (diff.length > 0 ? `: ${diff.join('; ')}` : ''),
      {
        hints: [
          'Re-run with the same options to resume, or add --restart to start over (records ' +
            'already stored come back as skipped).',
        ],
      },
    );
  }
}

/** Outcome counts of the run so far, for the state's totals. */
export interface Counts {
  accepted: number;
  skipped: number;
  failed: number;
}

/**
 * Saves the progress of one input: failures made durable first, then the state that counts
 * them as settled (never the other way round, so a crash never loses a failed record). Saves
 * are serialised; the state file is removed when the input is complete.
 */
export class Checkpointer {
  private chain: Promise<void> = Promise.resolve();
  private lastSaved = -1;
  /** Reader positions not yet under the resume point, oldest first. */
  private readonly positions: ReadPosition[] = [];
  private seek: ReadPosition | null;
  private readonly countsAtStart: Counts;

  constructor(
    private readonly o: {
      tracker: SettlementTracker;
      failures: FailuresSink | undefined;
      /** Absent for stdin, dry runs and records from elsewhere: nothing to resume. */
      file: StateFile<'ingest', IngestState> | undefined;
      state: IngestState | undefined;
      clock: Clock;
      counts: () => Counts;
      /** Called with the final state of a complete input before its state file is removed. */
      onComplete?: (state: IngestState) => Promise<void>;
    },
  ) {
    this.seek = o.state?.resume_from?.seek ?? null;
    this.countsAtStart = { ...o.counts() };
  }

  /** The reader has read every record up to `end` (a place a resume may seek to). */
  notePosition(end: ReadPosition): void {
    if (this.o.file) this.positions.push(end);
  }

  /** Flushes failures and, when anything settled since the last save (or `force`), saves the state. */
  save(force = false): Promise<void> {
    const next = this.chain.then(() => this.write(force));
    this.chain = next.catch(() => {});
    return next;
  }

  private async write(force: boolean): Promise<void> {
    await this.o.failures?.flush();
    const { file, state, tracker } = this.o;
    if (!file || !state) return;
    const through = tracker.settledThrough;
    if (!force && through === this.lastSaved) return;
    const point = tracker.resumePoint;
    while (this.positions.length > 0 && this.positions[0]!.line <= point.line) {
      this.seek = this.positions.shift()!;
    }
    const now = this.o.counts();
    state.settled_records = through;
    state.watermark_line = tracker.watermarkLine;
    state.resume_from = { records: point.records, line: point.line, seek: this.seek };
    state.counts = {
      read: through,
      accepted: state.counts.accepted + now.accepted - this.countsAtStart.accepted,
      skipped: state.counts.skipped + now.skipped - this.countsAtStart.skipped,
      failed: state.counts.failed + now.failed - this.countsAtStart.failed,
    };
    Object.assign(this.countsAtStart, now);
    state.updated_at = new Date(this.o.clock.now()).toISOString();
    await file.write(state);
    this.lastSaved = through;
  }

  /**
   * The last save: the state is removed when the input is complete, else kept for a resume
   * (its path is returned). The failures file is closed either way.
   */
  async finish(complete: boolean): Promise<string | undefined> {
    try {
      await this.save(true);
      if (!this.o.file) return undefined;
      if (complete) {
        if (this.o.state) await this.o.onComplete?.(this.o.state);
        await this.o.file.remove();
        return undefined;
      }
      return this.o.file.path;
    } finally {
      await this.o.failures?.close();
    }
  }
}

/**
 * The state `input` resumes from: the saved one (checked against the input and the options),
 * or a fresh one when there is none or `restart` is set.
 */
export async function resumeOrStart(
  file: StateFile<'ingest', IngestState>,
  identity: InputIdentity,
  shape: RequestShape,
  o: { restart: boolean; failuresPath: string; clock: Clock },
): Promise<IngestState> {
  const saved = o.restart ? undefined : await file.read();
  if (saved) {
    checkResumable(saved, file.path, identity, shape);
    return saved;
  }
  const now = new Date(o.clock.now()).toISOString();
  return {
    ...file.header(),
    input: { path: identity.path, size: identity.size, fingerprint: identity.fingerprint },
    options_hash: hashShape(shape),
    shape,
    settled_records: 0,
    watermark_line: 0,
    counts: { read: 0, accepted: 0, skipped: 0, failed: 0 },
    failures_file: o.failuresPath,
    started_at: now,
    updated_at: now,
  };
}
