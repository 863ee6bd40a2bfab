import { rmSync } from 'node:fs';
import { open, readFile, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../clock.js';
import { StoppedEarlyError, WriteFailedError } from '../errors.js';

export interface LockInfo {
  pid: number;
  host: string;
  profile: string;
  started_at: string;
}

/** The lock file beside `base` (an input, or an input and its shard tag); see run-files.ts. */
export function lockPathFor(base: string): string {
  return `${base}.synap-lock`;
}

export interface IngestLock {
  release(): Promise<void>;
}

export interface AcquireLockOptions {
  profile: string;
  /** Wait for the holder to finish instead of failing (--wait-lock). */
  wait?: boolean;
  clock?: Clock;
  signal?: AbortSignal;
}

/** Whether a process with this pid runs on this host. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds now. */
const heldHere = new Set<string>();

/**
 * Takes the lock of one input: a file created with O_EXCL holding pid, host and profile, so an
 * overlapping run (cron firing again before the last one ended) cannot ingest the same file at
 * the same time. A lock whose process is gone (same host, pid not running) is stale and taken
 * over, atomically: of several processes finding the same stale lock, one at a time holds a
 * short-lived `<lock>.takeover` file (O_EXCL), removes the lock only if it is still the stale
 * one it read, and then competes like everyone else to create it anew (O_EXCL): exactly one
 * proceeds. The lock covers the input whatever the profile, because the state file is shared
 * too; the holder's profile is named in the message.
 */
export async function acquireLock(path: string, opts: AcquireLockOptions): Promise<IngestLock> {
  const clock = opts.clock ?? systemClock;
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    profile: opts.profile,
    started_at: new Date(clock.now()).toISOString(),
  };
  for (;;) {
    if (await create(path, `${JSON.stringify(info)}\n`)) {
      heldHere.add(path);
      let released = false;
      // A second Ctrl-C exits at once, without unwinding: the lock still goes with the process.
      const onExit = () => rmSync(path, { force: true });
      process.once('exit', onExit);
      return {
        async release() {
          if (released) return;
          released = true;
          heldHere.delete(path);
          process.off('exit', onExit);
          await rm(path, { force: true });
        },
      };
    }
    const text = await readText(path);
    if (text === undefined) continue; // vanished between open and read: try again
    const holder = parseLock(text);
    // A holder with this very pid on this host that this process does not hold is an earlier
    // life of it: a container restarted on the same volume (same hostname, same pid 1).
    const stale =
      holder === 'unreadable' ||
      (holder.host === info.host &&
        (holder.pid === info.pid ? !heldHere.has(path) : !pidAlive(holder.pid)));
    if (stale) {
      // Stale (its process is gone) or half-written by a process killed while creating it.
      if (holder === 'unreadable' && !(await olderThan(path, 5_000, clock))) {
        await clock.sleep(200, opts.signal);
        continue;
      }
      await takeOver(path, text, clock, opts.signal);
      continue;
    }
    if (!opts.wait) {
      throw new StoppedEarlyError(
        `another synap ingest (pid ${holder.pid} on ${holder.host}, profile ${holder.profile}, ` +
          `started ${holder.started_at}) is ingesting this input; not starting a second one`,
        {
          hints: [
            `Lock file: ${path}. Add --wait-lock to wait for it to finish; remove the file only if that process is gone.`,
          ],
        },
      );
    }
    await clock.sleep(1000, opts.signal);
  }
}

/** The holder of a lock file: undefined when there is none, 'unreadable' when half-written. */
export async function readLock(path: string): Promise<LockInfo | 'unreadable' | undefined> {
  const text = await readText(path);
  return text === undefined ? undefined : parseLock(text);
}

/**
 * Creates `path` holding `text` with O_EXCL: true when this call made it, false when it exists.
 * A write that fails (a full disk) removes the half-made file and is a WriteFailedError.
 */
async function create(path: string, text: string): Promise<boolean> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new WriteFailedError(path, 'the lock file', err);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(path, { force: true });
    throw new WriteFailedError(path, 'the lock file', err);
  }
  await handle.close();
  return true;
}

/**
 * Removes the stale lock whose content was `stale`, if it is still there, while holding the
 * takeover file, so no process removes a lock another one has just created. A takeover file
 * left by a process that died holding it (older than 5 s) is removed.
 */
async function takeOver(
  path: string,
  stale: string,
  clock: Clock,
  signal: AbortSignal | undefined,
): Promise<void> {
  const claim = `${path}.takeover`;
  if (!(await create(claim, `${process.pid}\n`))) {
    if (await olderThan(claim, 5_000, clock)) await rm(claim, { force: true });
    else await clock.sleep(20 + Math.floor(Math.random() * 30), signal);
    return;
  }
  try {
    if ((await readText(path)) === stale) await rm(path, { force: true });
  } finally {
    await rm(claim, { force: true });
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return '';
  }
}

function parseLock(text: string): LockInfo | 'unreadable' {
  try {
    const info = JSON.parse(text) as Partial<LockInfo>;
    if (typeof info.pid !== 'number' || typeof info.host !== 'string') return 'unreadable';
    return {
      pid: info.pid,
      host: info.host,
      profile: String(info.profile ?? '?'),
      started_at: String(info.started_at ?? '?'),
    };
  } catch {
    return 'unreadable';
  }
}

async function olderThan(path: string, ms: number, clock: Clock): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info === undefined || clock.now() - info.mtimeMs > ms;
}
