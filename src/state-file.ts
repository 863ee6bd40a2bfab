import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-write.js';
import { UsageError, WriteFailedError } from './errors.js';
import { canonicalJson } from './json-value.js';

/**
 * What a state file checkpoints: an ingest of an input file, or an export to an output file.
 * Each kind has its own file name beside the file it belongs to (`suffix`), so an interrupted
 * ingest of `data.jsonl` and an export to `data.jsonl` never read, refuse or replace each
 * other's state; `tag` is the `kind` written inside the file, checked on reading.
 */
const KINDS = {
  ingest: { suffix: '.synap-state.json', tag: 'synap-ingest' },
  export: { suffix: '.synap-export-state.json', tag: 'synap-export' },
} as const;
type StateKind = keyof typeof KINDS;

/** Fields every state file has; each kind adds its own. */
export interface StateHeader<K extends StateKind> {
  version: 1;
  kind: (typeof KINDS)[K]['tag'];
}

/**
 * The checkpoint of one file for one kind of run: read (undefined when there is none; a damaged
 * one is a usage error that says how to start over), written atomically (a crash leaves the old
 * state or the new one, never half of each), removed when the run completes.
 */
export class StateFile<K extends StateKind, T extends StateHeader<K>> {
  readonly path: string;

  constructor(
    readonly kind: K,
    /** The input (ingest) or output (export) the state belongs to. */
    target: string,
    private readonly rules: {
      /** True when a parsed state has the fields this kind needs. */
      complete(state: Partial<T>): boolean;
      /** How to start over, shown when the file cannot be read. */
      restartHint: string;
    },
    /** Where the state file is, when not beside the target (see ingest/run-files.ts). */
    path: string = `${target}${KINDS[kind].suffix}`,
  ) {
    this.path = path;
  }

  async read(): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let state: Partial<T> | undefined;
    try {
      state = JSON.parse(text) as Partial<T>;
    } catch {
      state = undefined;
    }
    if (
      state === null ||
      typeof state !== 'object' ||
      state.kind !== KINDS[this.kind].tag ||
      state.version !== 1 ||
      !this.rules.complete(state)
    ) {
      throw new UsageError(`the ${this.kind} state file ${this.path} is not readable`, {
        hints: [this.rules.restartHint],
      });
    }
    return state as T;
  }

  /** Writes the state atomically; a failure is a WriteFailedError naming the file. */
  async write(state: T): Promise<void> {
    try {
      await writeFileAtomic(this.path, `${JSON.stringify(state, null, 2)}\n`);
    } catch (err) {
      throw new WriteFailedError(this.path, `the ${this.kind} state file`, err, {
        resumable: true,
        hints: ['Make room (or fix the permissions), then run the same command again to continue.'],
      });
    }
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  /** The header of a new state of this kind. */
  header(): StateHeader<K> {
    return { version: 1, kind: KINDS[this.kind].tag };
  }
}

export function hashOptions(shape: object): string {
  return createHash('sha256').update(canonicalJson(shape)).digest('hex');
}

/**
 * The options that differ between the run that saved a state and this one, by their flag
 * names, e.g. `--mode (none) → fast`: what a "cannot resume" message shows.
 */
export function optionDifferences<S extends object>(
  saved: S | undefined,
  now: S,
  labels: Record<keyof S, string>,
): string[] {
  const show = (v: unknown): string => {
    if (v === null || v === undefined) return '(none)';
    if (typeof v === 'string') return v;
    const json = canonicalJson(v);
    return json === '{}' ? '(none)' : json;
  };
  const out: string[] = [];
  for (const key of Object.keys(labels) as (keyof S)[]) {
    const before = show(saved?.[key]);
    const after = show(now[key]);
    if (before !== after) out.push(`${labels[key]} ${before} → ${after}`);
  }
  return out;
}
