import { open } from 'node:fs/promises';
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { hashOptions, optionDifferences, StateFile, type StateHeader } from '../state-file.js';
import type { FailuresSink } from './failures-file.js';
import type { Unit } from './inputs.js';
import type { requestShape } from './options.js';
import { PrefixHash, type ConsumedBytes, type InputIdentity } from './readers/index.js';
import type { SettlementTracker } from './settlement.js';
import type { ReadPosition } from './source-record.js';

/** The options that shape what is sent (options.ts requestShape); a resume must use the same ones. */
export type RequestShape = ReturnType<typeof requestShape>;

const SHAPE_FLAGS: Record<keyof RequestShape, string> = {
  base_url: 'base URL',
  profile: '--profile',
  format: '--format',
  created_at: '--created-at',
  channels: '--channels',
  include_private: '--include-private',
  map: '--map',
  document_type: '--document-type',
  mode: '--mode',
  user_id: '--user-id',
  customer_id: '--customer-id',
  metadata: '--metadata',
  id_from: '--id-from',
  scope: '--scope',
  timezone: '--timezone',
};

/**
 * The checkpoint of one input, in `<input>.synap-state.json`. The watermark counts records in
 * read order: every one of the first `settled_records` records of the input is settled
 * (accepted, skipped, or written to the failures file), so a resume skips exactly those.
 * Counting records rather than lines keeps it exact when a line holds several records (a JSON
 * array on one line); `watermark_line` is the line of the last of them, for people.
 */
export interface IngestState extends StateHeader<'ingest'> {
  /**
   * The input as it was read: its size, modification time and a fingerprint of its ends, and
   * `consumed`, the sha256 of every byte read so far (which covers every settled record). A
   * resume checks all of them, so a changed input is refused whatever the edit.
   */
  input: {
    path: string;
    size: number;
    fingerprint: string;
    mtime_ms?: number;
    consumed?: ConsumedBytes;
  };
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
  /** Outcomes of the settled records (those under the watermark), over every earlier run. */
  counts: {
    read: number;
    accepted: number;
    skipped: number;
    failed: number;
    /** Held by the instance as they are (the ledger): settled unsent. Absent in older states. */
    unchanged?: number;
  };
  failures_file: string | null;
  /**
   * Size of the failures file at the last checkpoint, when this input's runs own it (its
   * default name): lines past it are failures of records above the watermark, written just
   * before a crash; a resume cuts them off and records them again, once.
   */
  failures_bytes?: number;
  started_at: string;
  updated_at: string;
}

const RESTART_HINT = 'Add --restart to start over (records already stored come back as skipped).';
export const RESTART_FROM_START =
  'Add --restart to ingest the input from the beginning (already stored records are skipped).';

/** The state file of an ingest of `input` (at `path`, when not beside it: see run-files.ts). */
export function ingestStateFile(input: string, path?: string): StateFile<'ingest', IngestState> {
  return new StateFile<'ingest', IngestState>(
    'ingest',
    input,
    {
      complete: (s) =>
        typeof s.settled_records === 'number' &&
        typeof s.options_hash === 'string' &&
        s.input !== undefined &&
        s.counts !== undefined,
      restartHint: RESTART_FROM_START,
    },
    path,
  );
}

export const hashShape: (shape: RequestShape) => string = hashOptions;

/**
 * The hash of what maps a record to the body sent: the shape without where it goes (base URL,
 * profile). What the ledger remembers of a finished input is the instance's already, and holds
 * whichever address or profile reached it (`--local` is at another port each time).
 */
export function hashMapping(shape: RequestShape): string {
  const { base_url: _url, profile: _profile, ...mapping } = shape;
  return hashOptions(mapping);
}

/**
 * Checks that a saved state belongs to this input and these options, and returns the running
 * hash of the bytes it consumed (read again from the file) for the resumed reader to go on
 * with. A changed input or changed options would make the watermark mean something else, so
 * both are refused (exit 2): a size, modification time or fingerprint that differ, or bytes
 * already read that are not the same any more (an edit that keeps the size and the ends).
 */
export async function checkResumable(
  state: IngestState,
  statePath: string,
  identity: InputIdentity,
  shape: RequestShape,
): Promise<PrefixHash> {
  const refused = (message: string) => new UsageError(message, { hints: [RESTART_HINT] });
  const refuse = (why: string) =>
    refused(
      `${identity.path} changed since the interrupted run recorded in ${statePath} (${why}); cannot resume`,
    );
  const consumed = state.input.consumed;
  // Growth is not change: an input that only grew (a log, a nightly export appended to) resumes
  // when the bytes already read are the same, checked below like any resume's.
  const grew = state.input.size < identity.size && consumed !== undefined;
  if (state.input.size !== identity.size && !grew) {
    throw refuse(`size ${state.input.size} → ${identity.size}`);
  }
  if (!grew && state.input.fingerprint !== identity.fingerprint) {
    throw refuse('its content differs');
  }
  if (state.input.mtime_ms === undefined || consumed === undefined) {
    throw refused(
      `the interrupted run recorded in ${statePath} was saved without what it read of ${identity.path}, so it cannot be checked; cannot resume`,
    );
  }
  if (grew) {
    // Every byte was read and the last one ended no line: the appended bytes may continue the
    // last record, which was settled as it was.
    if (consumed.bytes === state.input.size && consumed.bytes > 0) {
      const last = await byteAt(identity.path, consumed.bytes - 1);
      if (last !== 0x0a) {
        throw refuse(
          `size ${state.input.size} → ${identity.size}, and the last line, already read, had no line break: the appended bytes may continue it`,
        );
      }
    }
  } else if (state.input.mtime_ms !== identity.mtimeMs) {
    throw refused(
      `${identity.path} was modified since the interrupted run recorded in ${statePath} ` +
        `(modification time ${iso(state.input.mtime_ms)} → ${iso(identity.mtimeMs)}); it may have changed, cannot resume`,
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
  const prefix = await PrefixHash.ofFile(identity.path, consumed.bytes);
  if (prefix === undefined || prefix.snapshot().sha256 !== consumed.sha256) {
    throw refuse(`the ${consumed.bytes} bytes already read are not the same`);
  }
  if (grew) {
    // From here on the state describes the grown input: its checkpoints and the next resume
    // are checked against that.
    state.input.size = identity.size;
    state.input.fingerprint = identity.fingerprint;
    state.input.mtime_ms = identity.mtimeMs;
  }
  return prefix;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The byte at offset `at` of the file (undefined when there is none). */
export async function byteAt(path: string, at: number): Promise<number | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(1);
    const { bytesRead } = await fh.read(buf, 0, 1, at);
    return bytesRead === 1 ? buf[0] : undefined;
  } finally {
    await fh.close();
  }
}

/** Outcome counts of settled records, all zero. */
export const noCounts = () => ({ accepted: 0, skipped: 0, failed: 0, unchanged: 0 });
export type Counts = ReturnType<typeof noCounts>;

/** Adds `more` into `into`, count by count (a count an older state lacks is 0); returns `into`. */
export function addCounts(into: Counts, more: Partial<Counts> | undefined): Counts {
  for (const k of ['accepted', 'skipped', 'failed', 'unchanged'] as const)
    into[k] += more?.[k] ?? 0;
  return into;
}

/**
 * Saves the progress of one input: failures made durable first, then the state that counts
 * them as settled (never the other way round, so a crash never loses a failed record). Only
 * failures of records under the watermark are written, so a resume never records one twice.
 * Saves are serialised; the state file is removed when the input is complete, and never
 * written for a run that settled nothing (a refusal before the first record leaves none).
 */
export class Checkpointer {
  private chain: Promise<void> = Promise.resolve();
  private lastSaved = -1;
  /** Reader positions not yet under the resume point, oldest first. */
  private readonly positions: ReadPosition[] = [];
  private seek: ReadPosition | null;
  /** Outcomes of earlier runs (records under the saved watermark; zero for a fresh run). */
  readonly earlier: Readonly<Counts>;
  private readonly settledAtStart: number;

  constructor(
    private readonly o: {
      tracker: SettlementTracker;
      failures: FailuresSink | undefined;
      /** Absent for stdin, dry runs and records from elsewhere: nothing to resume. */
      checkpoint: Unit['checkpoint'];
      clock: Clock;
    },
  ) {
    this.seek = o.checkpoint?.state.resume_from?.seek ?? null;
    this.earlier = addCounts(noCounts(), o.checkpoint?.state.counts);
    this.settledAtStart = o.checkpoint?.state.settled_records ?? 0;
  }

  /** The reader has read every record up to `end` (a place a resume may seek to). */
  notePosition(end: ReadPosition): void {
    if (this.o.checkpoint) this.positions.push(end);
  }

  /** Flushes failures and, when anything settled since the last save (or `force`), saves the state. */
  save(force = false): Promise<void> {
    const next = this.chain.then(() => this.write(force));
    this.chain = next.catch(() => {});
    return next;
  }

  private async write(force: boolean): Promise<void> {
    const { checkpoint, failures, tracker } = this.o;
    const through = tracker.settledThrough;
    // Failures of records above the watermark wait: a resume reads those records again.
    await failures?.flush(checkpoint ? through : Infinity);
    if (!checkpoint) return;
    const { file, state, prefix } = checkpoint;
    if (checkpoint.ownsFailures && failures?.bytes !== undefined) {
      state.failures_bytes = failures.bytes;
    }
    if (!force && through === this.lastSaved) return;
    // Nothing settled and nothing saved before: no state to leave behind.
    if (through === 0 && this.settledAtStart === 0) return;
    const point = tracker.resumePoint;
    while (this.positions.length > 0 && this.positions[0]!.line <= point.line) {
      this.seek = this.positions.shift()!;
    }
    state.settled_records = through;
    state.watermark_line = tracker.watermarkLine;
    state.resume_from = { records: point.records, line: point.line, seek: this.seek };
    state.counts = { read: through, ...addCounts({ ...this.earlier }, tracker.counts) };
    if (prefix.bytes >= (state.input.consumed?.bytes ?? 0)) {
      state.input.consumed = prefix.snapshot();
    }
    state.updated_at = new Date(this.o.clock.now()).toISOString();
    await file.write(state);
    this.lastSaved = through;
  }

  /**
   * The last save: the state is removed when the input is complete, else kept for a resume
   * (its path is returned; undefined when there is none). The failures file is closed either
   * way, without the failures a resume will record again.
   */
  async finish(complete: boolean): Promise<string | undefined> {
    const { checkpoint, tracker } = this.o;
    try {
      await this.save(true);
      if (!checkpoint) return undefined;
      if (complete) {
        await checkpoint.onComplete?.(checkpoint.state);
        await checkpoint.file.remove();
        return undefined;
      }
      return tracker.settledThrough > 0 || this.settledAtStart > 0
        ? checkpoint.file.path
        : undefined;
    } finally {
      await this.o.failures?.close(checkpoint ? tracker.settledThrough : Infinity);
    }
  }
}

/** A state with nothing settled yet: `identity` read with `shape`, started at `nowMs`. */
export function freshIngestState(
  file: StateFile<'ingest', IngestState>,
  identity: InputIdentity,
  shape: RequestShape,
  failuresFile: string,
  nowMs: number,
): IngestState {
  const now = new Date(nowMs).toISOString();
  return {
    ...file.header(),
    input: {
      path: identity.path,
      size: identity.size,
      fingerprint: identity.fingerprint,
      mtime_ms: identity.mtimeMs,
      consumed: PrefixHash.empty().snapshot(),
    },
    options_hash: hashShape(shape),
    shape,
    settled_records: 0,
    watermark_line: 0,
    counts: { read: 0, accepted: 0, skipped: 0, failed: 0 },
    failures_file: failuresFile,
    started_at: now,
    updated_at: now,
  };
}

/**
 * The state `input` resumes from: the saved one (checked against the input and the options;
 * `resumed`), or a fresh one when there is none or `restart` is set; and the input's running
 * hash.
 */
export async function resumeOrStart(
  file: StateFile<'ingest', IngestState>,
  identity: InputIdentity,
  shape: RequestShape,
  o: { restart: boolean; failuresPath: string; clock: Clock },
): Promise<{ state: IngestState; prefix: PrefixHash; resumed: boolean }> {
  const saved = o.restart ? undefined : await file.read();
  if (saved) {
    const prefix = await checkResumable(saved, file.path, identity, shape);
    return { state: saved, prefix, resumed: true };
  }
  return {
    state: freshIngestState(file, identity, shape, o.failuresPath, o.clock.now()),
    prefix: PrefixHash.empty(),
    resumed: false,
  };
}
