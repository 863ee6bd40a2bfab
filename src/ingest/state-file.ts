import { writeFileAtomic } from '../atomic-write.js';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { UsageError } from '../errors.js';

/** What identifies an input file (from readers' inputIdentity). */
export interface InputIdentity {
  path: string;
  size: number;
  mtimeMs: number;
  fingerprint: string;
}

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

/**
 * The checkpoint of one input, in `<input>.synap-state.json`. The watermark counts records in
 * read order: every one of the first `settled_records` records of the input is settled
 * (accepted, skipped, or written to the failures file), so a resume skips exactly those.
 * Counting records rather than lines keeps it exact when a line holds several records (a JSON
 * array on one line); `watermark_line` is the line of the last of them, for people.
 */
export interface IngestState {
  version: 1;
  kind: 'synap-ingest';
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

export function statePathFor(input: string): string {
  return `${input}.synap-state.json`;
}

/** Canonical JSON (sorted keys) so the same options always hash the same. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export function hashShape(shape: RequestShape): string {
  return createHash('sha256').update(canonical(shape)).digest('hex');
}

/** Reads a state file; undefined when there is none. An unreadable one is a usage error. */
export async function readIngestState(path: string): Promise<IngestState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let s: Partial<IngestState> | undefined;
  try {
    s = JSON.parse(text) as Partial<IngestState>;
  } catch {
    s = undefined;
  }
  if (
    !s ||
    s.kind !== 'synap-ingest' ||
    s.version !== 1 ||
    typeof s.settled_records !== 'number' ||
    typeof s.options_hash !== 'string' ||
    !s.input ||
    !s.counts
  ) {
    throw new UsageError(`the ingest state file ${path} is not readable`, {
      hints: [
        'Add --restart to ingest the input from the beginning (already stored records are skipped).',
      ],
    });
  }
  return s as IngestState;
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
  const hint = 'Add --restart to start over (records already stored come back as skipped).';
  if (state.input.size !== identity.size || state.input.fingerprint !== identity.fingerprint) {
    throw new UsageError(
      `${identity.path} changed since the interrupted run recorded in ${statePath} ` +
        `(size ${state.input.size} → ${identity.size}); cannot resume`,
      { hints: [hint] },
    );
  }
  if (state.options_hash !== hashShape(shape)) {
    const diff = shapeDifferences(state.shape, shape);
    throw new UsageError(
      `the options differ from the interrupted run recorded in ${statePath}` +
        (diff.length > 0 ? `: ${diff.join('; ')}` : ''),
      {
        hints: [
          'Re-run with the same options to resume, or ' +
            hint.charAt(0).toLowerCase() +
            hint.slice(1),
        ],
      },
    );
  }
}

/** Names the request-shaping options that differ, e.g. `--mode fast → long-range`. */
export function shapeDifferences(a: RequestShape, b: RequestShape): string[] {
  const out: string[] = [];
  const names: Record<keyof RequestShape, string> = {
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
  for (const key of Object.keys(names) as (keyof RequestShape)[]) {
    const before = canonical(a?.[key] ?? null);
    const after = canonical(b[key] ?? null);
    const show = (v: string) => (v === 'null' || v === '{}' ? '(none)' : v);
    if (before !== after) out.push(`${names[key]} ${show(before)} → ${show(after)}`);
  }
  return out;
}

/** Saves the state atomically (see writeFileAtomic). */
export async function writeIngestState(path: string, state: IngestState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}

export async function removeIngestState(path: string): Promise<void> {
  await rm(path, { force: true });
}
