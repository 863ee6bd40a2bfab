import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { ExitCode } from '../../src/errors.js';
import { acquireLock } from '../../src/ingest/lock.js';

/** The pid of a process that has exited (and been reaped): it runs nothing on this host. */
const goneHere = () => spawnSync(process.execPath, ['-e', '']).pid;

describe('ingest lock', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const lockPath = () => {
    const d = mkdtempSync(join(tmpdir(), 'synap-lock-'));
    dirs.push(d);
    return join(d, 'in.jsonl.synap-lock');
  };

  it('is exclusive: a second taker stops with exit 5 naming the holder', async () => {
    const path = lockPath();
    const lock = await acquireLock(path, { profile: 'prod' });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({
      pid: process.pid,
      profile: 'prod',
    });
    const err = await acquireLock(path, { profile: 'prod' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: ExitCode.STOPPED });
    expect(String((err as Error).message)).toContain(`pid ${process.pid}`);
    await lock.release();
    expect(existsSync(path)).toBe(false);
    const again = await acquireLock(path, { profile: 'prod' });
    await again.release();
  });

  it('takes over a stale lock whose process is gone', async () => {
    const path = lockPath();
    writeFileSync(
      path,
      JSON.stringify({ pid: goneHere(), host: hostname(), profile: 'x', started_at: '' }),
    );
    const lock = await acquireLock(path, { profile: 'p' });
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock of its own pid on its host that it does not hold (a restarted container)', async () => {
    const path = lockPath();
    // A pod killed and started again on the same volume: same hostname, same pid (1, say), and
    // that pid is alive: it is this process.
    writeFileSync(
      path,
      JSON.stringify({ pid: process.pid, host: hostname(), profile: 'x', started_at: '' }),
    );
    const lock = await acquireLock(path, { profile: 'p' });
    expect(JSON.parse(readFileSync(path, 'utf8')).profile).toBe('p');
    // While this process holds it, its own pid in the file means held.
    await expect(acquireLock(path, { profile: 'q' })).rejects.toMatchObject({
      exitCode: ExitCode.STOPPED,
    });
    await lock.release();
  });

  it('does not take over a lock held on another host', async () => {
    const path = lockPath();
    writeFileSync(
      path,
      // A pid that runs nothing here: on another host it says nothing about the holder.
      JSON.stringify({ pid: goneHere(), host: 'elsewhere', profile: 'x', started_at: '' }),
    );
    await expect(acquireLock(path, { profile: 'p' })).rejects.toMatchObject({
      exitCode: ExitCode.STOPPED,
    });
  });

  it('with wait, polls until the holder releases', async () => {
    const path = lockPath();
    const holder = await acquireLock(path, { profile: 'a' });
    let polls = 0;
    const clock: Clock = {
      now: () => Date.now(),
      sleep: async () => {
        polls += 1;
        if (polls === 3) await holder.release();
      },
    };
    const lock = await acquireLock(path, { profile: 'b', wait: true, clock });
    expect(polls).toBe(3);
    expect(JSON.parse(readFileSync(path, 'utf8')).profile).toBe('b');
    await lock.release();
  });
});
