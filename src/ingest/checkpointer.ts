import { UsageError } from '../errors.js';
import { hashOptions, optionDifferences, StateFile, type StateHeader } from '../state-file.js';
import type { InputIdentity } from './readers/index.js';

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
