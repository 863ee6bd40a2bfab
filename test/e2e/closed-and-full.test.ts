import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';
import { seedMemories } from '../helpers/export.js';
import { storedOnce } from '../helpers/ingest.js';

/**
 * Output that cannot be written: a reader that goes away (closed stderr or stdout), a full
 * disk (/dev/full, a full tmpfs). Lost diagnostics never stop the work; lost data is never
 * reported as success; a write error is one line naming the path, never a stack trace, and
 * leaves no temporary file behind.
 */

const STACK_LINE = /^\s+at .+\(.+:\d+:\d+\)$/m;

/** A 64 KiB tmpfs at `dir` holding `files`, then filled to the last page; undefined when not allowed. */
function fullTmpfs(dir: string, files: Record<string, string>): (() => void) | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return undefined;
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(dir, 'filler')}`, 'bs=4k'], { stdio: 'pipe' });
  } catch {
    // dd ends with "No space left on device", as intended
  }
  return () => execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
}

describe('closed streams and full disks', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = box.dir;
  const full = join(dir, 'full');
  const onFull = Array.from({ length: 20 }, (_, i) => JSON.stringify({ document: `onfull ${i}` }));
  const unmount = fullTmpfs(full, { 'data.jsonl': `${onFull.join('\n')}\n` });

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 5 });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
    await seedMemories(emu, 250, 'seed');
  });
  afterAll(async () => {
    await emu.close();
    unmount?.();
    box.cleanup();
  });

  it('a closed stderr (`2>&1 | head -1`) loses only diagnostics: every record sent or failed, no lock or state left', async () => {
    // Failed records spread over the run: each prints a line on stderr while records remain,
    // long after `head` has gone, so the run meets the closed pipe in the middle of its work.
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify(i % 300 === 150 ? { nodoc: i } : { document: `pipe ${i}` }),
    );
    writeFileSync(join(dir, 'pipe.jsonl'), `${lines.join('\n')}\n`);
    const r = await runShell('synap ingest pipe.jsonl --batch-size 20 2>&1 | head -1', {
      env,
      cwd: dir,
      timeoutMs: 120_000,
    });
    // Partial (exit 3), as the ten failures make it: not 0 for unfinished work.
    expect(r.code, r.stdout).toBe(3);
    const docs = emu.documents().filter((d) => d.document.startsWith('pipe '));
    expect(storedOnce(docs)).toEqual({ distinct: 2990, duplicates: 0 });
    const failed = readFileSync(join(dir, 'pipe.jsonl.failures.jsonl'), 'utf8').trim().split('\n');
    expect(failed).toHaveLength(10);
    expect(existsSync(join(dir, 'pipe.jsonl.synap-lock'))).toBe(false);
    expect(existsSync(join(dir, 'pipe.jsonl.synap-state.json'))).toBe(false);
  }, 120_000);

  it('`export | head -1` is not reported as a complete export (exit 3)', async () => {
    const r = await runShell('synap export --page-size 10 | head -1', { env, cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('`export > /dev/full`: one line naming stdout and the cause, exit 1, no stack trace', async () => {
    const r = await runShell('synap export > /dev/full', { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).toContain('stdout');
    expect(r.stderr).toContain('no space left on device');
  });

  it('`--json memories list > /dev/full` fails the same way', async () => {
    const r = await runShell('synap --json memories list > /dev/full', { env, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).toContain('no space left on device');
  });

  it('a failures file that cannot be written stops the run resumably (exit 5), naming the path', async () => {
    const lines = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify(i % 10 === 3 ? { nodoc: i } : { document: `full ${i}` }),
    );
    writeFileSync(join(dir, 'full.jsonl'), `${lines.join('\n')}\n`);
    const r = await runCli(['--json', 'ingest', 'full.jsonl', '--failures', '/dev/full'], {
      env,
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).toContain('/dev/full');
    expect(r.stderr).toContain('no space left on device');
    // With a failures file that can be written, the same run ends with every failure in it.
    const again = await runCli(['--json', 'ingest', 'full.jsonl', '--failures', 'f.jsonl'], {
      env,
      cwd: dir,
    });
    expect(again.code, again.stderr).toBe(3);
    expect(JSON.parse(again.stdout).result.failed).toBe(5);
    expect(readFileSync(join(dir, 'f.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(emu.documents().filter((d) => d.document.startsWith('full ')).length).toBe(45);
  });

  it.skipIf(!unmount)(
    'a full disk under the failures file: exit 5 naming it, no empty file left behind',
    async () => {
      const lines = Array.from({ length: 10 }, (_, i) =>
        JSON.stringify(i === 3 ? { nodoc: i } : { document: `tofull ${i}` }),
      );
      writeFileSync(join(dir, 'tofull.jsonl'), `${lines.join('\n')}\n`);
      const r = await runCli(['ingest', 'tofull.jsonl', '--failures', join(full, 'f.jsonl')], {
        env,
        cwd: dir,
      });
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stderr).toContain(join(full, 'f.jsonl'));
      expect(r.stderr).toContain('no space left on device');
      expect(readdirSync(full).sort()).toEqual(['data.jsonl', 'filler']);
    },
  );

  it.skipIf(!unmount)(
    'export -o FILE on a full disk: exit 5 naming the cause, FILE byte for byte as it was, nothing left beside it',
    async () => {
      const target = join(full, 'data.jsonl');
      const before = readFileSync(target);
      const r = await runCli(['export', '-o', target, '--force'], { env, cwd: dir });
      expect(r.code, r.stderr).toBe(5);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stderr).toContain('no space left on device');
      expect(readFileSync(target).equals(before)).toBe(true);
      expect(readdirSync(full).sort()).toEqual(['data.jsonl', 'filler']);
    },
  );

  it.skipIf(!unmount)(
    'a full disk under the lock and state files: one line naming the path, nothing left behind',
    async () => {
      const r = await runCli(['ingest', join(full, 'data.jsonl')], { env, cwd: dir });
      expect([1, 5], r.stderr).toContain(r.code);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stderr).toContain(join(full, 'data.jsonl.synap-'));
      expect(r.stderr).toContain('no space left on device');
      expect(readdirSync(full).sort()).toEqual(['data.jsonl', 'filler']);
    },
  );
});
