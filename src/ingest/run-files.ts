import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, lstat, realpath, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { UsageError, WriteFailedError } from '../errors.js';
import { makeDirsSync } from '../make-dirs.js';

/**
 * Where the files of one input's ingest go, named in one place: the state (checkpoint), the
 * lock and the default failures file.
 *
 * - A regular file in a directory we may write in: beside the input, `<input>.synap-state.json`,
 *   `<input>.synap-lock`, `<input>.failures.jsonl` (an input that is a symlink: beside its
 *   target, so every spelling of one file shares one lock and one state).
 * - A regular file in a read-only directory, or one found in a folder given as the input (a
 *   notes vault, a Slack export: the user's folder is never written into): in the user's state
 *   directory ($XDG_STATE_HOME/synap), under the file's name and a hash of its real path, so a
 *   resume, a shard and its lock find them again.
 * - stdin (`-`): a failures file of its own per run, `stdin-<time>-<random>.failures.jsonl`, in
 *   the working directory (the state directory when that is read-only); nothing to resume.
 * - Any other input that is not a regular file (/dev/stdin, a pipe, `<(…)`): the same, in the
 *   state directory.
 * A default failures file is never an input of the run (another name is taken beside it), and
 * never a symlink (refused).
 */
export interface InputFiles {
  /** A regular file: it can be read again, so the run has a state and a lock. */
  resumable: boolean;
  /** The failures file when --failures is not given. */
  failures: string;
  /** True when `failures` is a name made for this run alone (created, never appended to). */
  uniqueFailures: boolean;
  /** Set when the files are kept in the user's state directory, with the reason. */
  elsewhere?: Elsewhere;
  /**
   * What the state, lock, done and default failures names extend (resumable inputs only):
   * ingestStateFile(base), lockPathFor(base), donePathFor(base).
   */
  base?: string;
}

/** Where an input's files are kept instead of beside it, and why. */
export interface Elsewhere {
  dir: string;
  why: string;
  /** Set when the input was found in a folder given as the input: the folder. */
  folder?: string;
}

/**
 * The longest a file-name base may be, in bytes: the longest name made from it (a unique
 * failures file, `.failures-20240101-120000-3fa2.jsonl`, or a state file's temporary twin) adds
 * under 40 bytes, and most file systems allow 255.
 */
const MAX_BASE_BYTES = 200;

/**
 * A file name that fits MAX_BASE_BYTES: as it is when short enough, else its start (cut on a
 * character boundary) and a hash of the whole name, the same on every run so a resume finds it.
 */
export function fitName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_BASE_BYTES) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  const bytes = Buffer.from(name);
  // Cut where a character starts, never inside one.
  let end = MAX_BASE_BYTES - hash.length - 1;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end -= 1;
  return `${bytes.subarray(0, end).toString('utf8')}-${hash}`;
}

const FAILURES = '.failures.jsonl';

/** The user's state directory for synap: $XDG_STATE_HOME/synap, else ~/.local/state/synap. */
export function userStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'synap');
}

/** A time and a random tail, unique to one run: `20240101-120000-3fa2`. */
function runStamp(now: number): string {
  const t = new Date(now).toISOString();
  const day = t.slice(0, 10).replace(/-/g, '');
  const time = t.slice(11, 19).replace(/:/g, '');
  return `${day}-${time}-${randomBytes(2).toString('hex')}`;
}

/**
 * The real path of a file, or for one that does not exist yet, its directory's real path and
 * its name; so two spellings of one file (`./x`, `../d/x`, a symlink) compare equal.
 */
async function realPathOf(path: string): Promise<string> {
  const real = await realpath(path).catch(() => undefined);
  if (real !== undefined) return real;
  const dir = await realpath(dirname(resolve(path))).catch(() => undefined);
  return dir === undefined ? resolve(path) : join(dir, basename(path));
}

/** The real paths of the inputs of a run (stdin has none). */
export async function realInputs(inputs: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const i of inputs) if (i !== '-') out.add(await realPathOf(i));
  return out;
}

/** Refuses a --failures path that names an input of the run, however it is spelt. */
export async function checkFailuresFlag(path: string, inputs: Set<string>): Promise<void> {
  if (inputs.has(await realPathOf(path))) {
    throw new UsageError(`--failures ${path} is also an input; name another file`);
  }
}

/** Refuses to write failures through a symlink (it could point anywhere). */
export async function refuseSymlink(path: string): Promise<void> {
  if ((await lstat(path).catch(() => undefined))?.isSymbolicLink()) {
    throw new UsageError(
      `refusing to write failures to ${path}: it is a symbolic link (it could point anywhere)`,
      { hints: ['Remove the link or name another file with --failures PATH.'] },
    );
  }
}

function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK)
    .then(() => true)
    .catch(() => false);
}

/** The state directory, made private; one that cannot be made stops the run before it starts. */
export async function privateDir(dir: string): Promise<string> {
  try {
    // Before the input is read, once per input: blocking for a mkdir costs nothing here.
    makeDirsSync(dir, 0o700);
  } catch (err) {
    throw new WriteFailedError(dir, 'the state directory', err, {
      hints: ['Set XDG_STATE_HOME to a directory you can write.'],
    });
  }
  return dir;
}

/**
 * What the state, lock, failures and done files of the regular file `input` are named after
 * (InputFiles.base): the input as spelt, or the file a symlink points to, or for a directory
 * that cannot be written, a name in the user's state directory (not made here).
 */
export async function filesBase(
  input: string,
  o: { env?: NodeJS.ProcessEnv; tag?: string; folder?: string } = {},
): Promise<{ base: string; elsewhere?: Elsewhere }> {
  const real = await realPathOf(input);
  const linked = (await lstat(input)).isSymbolicLink();
  let base = linked ? real : input;
  let elsewhere: Elsewhere | undefined;
  const why =
    o.folder !== undefined
      ? `it is in the folder ${o.folder}, which synap does not write into`
      : !(await writable(dirname(real)))
        ? 'its directory is not writable'
        : undefined;
  if (why !== undefined) {
    const dir = userStateDir(o.env);
    const id = createHash('sha256').update(real).digest('hex').slice(0, 12);
    base = join(dir, `${basename(real)}-${id}`);
    elsewhere = { dir, why, folder: o.folder };
  }
  if (o.tag) base = `${base}.${o.tag}`;
  // An input whose name is near the file system's limit: its files get a shortened name.
  const fitted = fitName(basename(base));
  if (fitted !== basename(base)) base = join(dirname(base), fitted);
  return { base, elsewhere };
}

/**
 * Names the files of `input` (see InputFiles). `inputs`: real paths of every input of the run;
 * `folder`: the folder given as the input that `input` was found in.
 */
export async function inputFiles(
  input: string,
  o: { now: number; inputs: Set<string>; env?: NodeJS.ProcessEnv; tag?: string; folder?: string },
): Promise<InputFiles> {
  // A shard's files carry its tag: `data.jsonl.shard-2-of-8.synap-state.json`.
  const tagged = (name: string) => (o.tag ? `${name}.${o.tag}` : name);
  const stdin = input === '-';
  if (stdin || !(await stat(input).catch(() => undefined))?.isFile()) {
    const stamped = `${stdin ? 'stdin' : basename(input)}-${runStamp(o.now)}`;
    const name = `${fitName(tagged(stamped))}${FAILURES}`;
    const once = { resumable: false, uniqueFailures: true } as const;
    if (stdin && (await writable('.'))) return { ...once, failures: name };
    const dir = await privateDir(userStateDir(o.env));
    const why = stdin ? 'the working directory is not writable' : 'it is not a regular file';
    return { ...once, failures: join(dir, name), elsewhere: { dir, why } };
  }
  const { base, elsewhere } = await filesBase(input, o);
  if (elsewhere) await privateDir(elsewhere.dir);
  // When its usual failures file is being read in this run, it is never written over.
  const uniqueFailures = o.inputs.has(await realPathOf(`${base}${FAILURES}`));
  const failures = uniqueFailures
    ? `${base}.failures-${runStamp(o.now)}.jsonl`
    : `${base}${FAILURES}`;
  return {
    resumable: true,
    base,
    failures,
    uniqueFailures,
    elsewhere,
  };
}
