import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runShell, spawnCli } from '../helpers/cli.js';
import { api } from '../helpers/emulator.js';
import { allMemories, byId, parseLines, seedMemories } from '../helpers/export.js';
import { envFor, STACK_LINE, useSeededEmulator } from '../helpers/fixtures/export.js';
import { runInProcess } from '../helpers/in-process.js';

describe('synap export', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let held: Awaited<ReturnType<typeof allMemories>>;

  useSeededEmulator(sandbox, 2500, (e, h) => {
    emu = e;
    held = h;
  });

  it('`export | head -1` ends promptly and cleanly, and does not claim a complete export (exit 3)', async () => {
    const started = Date.now();
    const res = await runShell('synap export --page-size 100 | head -1', {
      env: envFor(emu, sandbox),
    });
    expect(res.stderr).not.toMatch(STACK_LINE);
    expect(res.stderr).not.toContain('EPIPE');
    // The reader took one line: the export cannot vouch that the rest reached anyone.
    expect(res.code).toBe(3);
    const lines = parseLines(res.stdout);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual(held[0]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

/**
 * kill -9 needs a process of its own; the export that resumes after it runs in this process
 * (test/helpers/in-process.ts), which shows its answer and files as the binary would.
 */
describe('synap export resumed after kill -9', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 2500);
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('the same command continues and every memory ends up in the file exactly once', async () => {
    const out = join(sandbox.dir, 'backup.jsonl');
    const state = `${out}.synap-export-state.json`;
    emu.setFaults({ latencyMs: 100 });
    const run = spawnCli(['export', '--page-size', '50', '-o', out], { env: envFor(emu, sandbox) });
    // Kill it once a checkpoint with some progress is on disk, well before the end (50 pages).
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('no checkpoint appeared');
      if (existsSync(state)) {
        try {
          const s = JSON.parse(readFileSync(state, 'utf8')) as { lines: number };
          if (s.lines > 0) break;
        } catch {
          // being replaced right now
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    // Until it completes the export is written beside FILE; FILE itself does not exist yet.
    expect(existsSync(out)).toBe(false);
    const beside = readFileSync(`${out}.synap-export-partial`, 'utf8');
    const partial = parseLines(beside.slice(0, beside.lastIndexOf('\n') + 1));
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(2500);

    emu.setFaults({ latencyMs: 0 });
    const r = await runInProcess(['export', '--page-size', '50', '-o', out], {
      env: envFor(emu, sandbox),
    });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/resum/);
    const lines = parseLines(readFileSync(out, 'utf8'));
    expect(lines).toHaveLength(2500);
    expect(new Set(lines.map((m) => m.memory_id)).size).toBe(2500);
    expect([...lines].sort(byId)).toEqual((await allMemories(emu)).sort(byId));
    expect(existsSync(state)).toBe(false);
    expect(existsSync(`${out}.synap-export-partial`)).toBe(false);
  });

  it('memories deleted and created between the kill and the resume: every memory that existed throughout is in the file, once', async () => {
    const out = join(sandbox.dir, 'churned.jsonl');
    const state = `${out}.synap-export-state.json`;
    emu.setFaults({ latencyMs: 100 });
    const run = spawnCli(['export', '--page-size', '50', '-o', out], { env: envFor(emu, sandbox) });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (Date.now() > deadline) throw new Error('no checkpoint of 200 lines appeared');
      try {
        if ((JSON.parse(readFileSync(state, 'utf8')) as { lines: number }).lines >= 200) break;
      } catch {
        // not there yet, or being replaced right now
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    // The deletions below are setup, not what is timed: answered without the latency.
    emu.setFaults({ latencyMs: 0 });
    const beside = readFileSync(`${out}.synap-export-partial`, 'utf8');
    const written = parseLines(beside.slice(0, beside.lastIndexOf('\n') + 1));
    expect(written.length).toBeLessThan(2500);
    // The service consolidates while no export runs: 50 memories already written go, and the
    // memories after them move 50 places up the listing, past where the export stopped.
    const gone = written.filter((_, i) => i % 2 === 0).slice(0, 50);
    for (const m of gone) {
      expect((await api(emu, 'DELETE', `/api/v1/memories/${m.memory_id}`)).status).toBe(200);
    }
    await seedMemories(emu, 50, 'consolidated');

    const r = await runInProcess(['export', '--page-size', '50', '-o', out], {
      env: envFor(emu, sandbox),
    });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(0);
    const lines = parseLines(readFileSync(out, 'utf8'));
    const ids = lines.map((m) => m.memory_id);
    expect(new Set(ids).size).toBe(ids.length);
    const inFile = new Set(ids);
    const now = await allMemories(emu);
    expect(now.filter((m) => !inFile.has(m.memory_id)).map((m) => m.memory_id)).toEqual([]);
  });
});
