import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { allMemories, byId, parseLines, seedMemories } from '../helpers/export.js';
import { envFor, STACK_LINE, useSeededEmulator } from '../helpers/fixtures/export.js';

describe('synap export', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let held: Awaited<ReturnType<typeof allMemories>>;

  useSeededEmulator(sandbox, 2500, (e, h) => {
    emu = e;
    held = h;
  });

  it('exports 2,500 memories at page size 100: 2,500 distinct lines equal to what the emulator holds', async () => {
    const before = emu.stats().requests_by_endpoint.list ?? 0;
    const r = await runInProcess(['export', '--page-size', '100'], { env: envFor(emu, sandbox) });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(2500);
    expect(new Set(lines.map((m) => m.memory_id)).size).toBe(2500);
    expect(held).toHaveLength(2500);
    expect([...lines].sort(byId)).toEqual([...held].sort(byId));
    // Same order as the server's, every field kept (the emulator adds fields beyond §5.4).
    expect(lines[0]).toEqual(held[0]);
    expect(Object.keys(lines[0]!)).toEqual(expect.arrayContaining(['metadata', 'user_id']));
    // Every stored document became exactly one exported memory.
    const docIds = emu.documents().map((d) => d.document_id);
    expect(new Set(lines.map((m) => m.source_document_id))).toEqual(new Set(docIds));
    // The listing, then one verification pass over it that finds nothing missing.
    expect((emu.stats().requests_by_endpoint.list ?? 0) - before).toBe(50);
    expect(r.stderr).toMatch(/^memories: 2500$/m);
    expect(r.stderr).toMatch(/^pages: 25$/m);
  });

  it('filters by user and writes a summary JSON on stdout only with -o', async () => {
    const out = join(sandbox.dir, 'five.jsonl');
    const r = await runInProcess(['--json', 'export', '--user-id', 'u-five', '-o', out], {
      env: envFor(emu, sandbox),
    });
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { status: string; result: Record<string, unknown> };
    expect(summary.status).toBe('ok');
    expect(summary.result).toMatchObject({ memories: 500, complete: true, output: out });
    const lines = parseLines(readFileSync(out, 'utf8'));
    expect(lines).toHaveLength(500);
    expect(lines.every((m) => m.user_id === 'u-five')).toBe(true);
    expect(existsSync(`${out}.synap-export-state.json`)).toBe(false);
  });

  it('an interrupted ingest of FILE and an export to FILE keep separate checkpoints', async () => {
    // The ingest stops at its first failed record (--fail-fast) and keeps its checkpoint.
    const file = join(sandbox.dir, 'shared.jsonl');
    const records = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify(i === 10 ? { nodoc: i } : { document: `shared record ${i}` }),
    );
    writeFileSync(file, `${records.join('\n')}\n`);
    const env = envFor(emu, sandbox);
    const ingest = await runInProcess(['ingest', file, '--fail-fast', '--batch-size', '5'], {
      env,
    });
    expect(ingest.code, ingest.stderr).toBe(5);
    const ingestState = `${file}.synap-state.json`;
    const checkpoint = readFileSync(ingestState, 'utf8');

    // The ingest's input is not an export: writing over it needs --force.
    const refused = await runInProcess(['export', '--user-id', 'u-five', '-o', file], { env });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(
      `${file} already exists and is not a finished export of this instance`,
    );
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe(`${records.join('\n')}\n`);
    expect(existsSync(`${file}.synap-export-state.json`)).toBe(false);

    // An export to the same name neither trips over nor replaces the ingest's checkpoint.
    for (const args of [['--force'], ['--restart', '--force']]) {
      const r = await runInProcess(['export', '--user-id', 'u-five', '-o', file, ...args], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(parseLines(readFileSync(file, 'utf8'))).toHaveLength(500);
      expect(readFileSync(ingestState, 'utf8')).toBe(checkpoint);
    }
    rmSync(ingestState);
    rmSync(`${file}.failures.jsonl`, { force: true });
  });

  it('-o FILE: an existing unrelated file is kept unless --force; an empty one is written', async () => {
    const env = envFor(emu, sandbox);
    const notes = join(sandbox.dir, 'notes.txt');
    writeFileSync(notes, 'precious\n');
    const listed = emu.stats().requests_by_endpoint.list ?? 0;
    const r = await runInProcess(['export', '--user-id', 'u-five', '-o', notes], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${notes} already exists and is not a finished export of this instance`,
    );
    expect(readFileSync(notes, 'utf8')).toBe('precious\n');
    expect(emu.stats().requests_by_endpoint.list ?? 0).toBe(listed); // refused before paging
    const forced = await runInProcess(['export', '--user-id', 'u-five', '-o', notes, '--force'], {
      env,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(parseLines(readFileSync(notes, 'utf8'))).toHaveLength(500);
    // Now it is a finished export of this instance: the next run replaces it without --force.
    const again = await runInProcess(['export', '--user-id', 'u-five', '-o', notes], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(parseLines(readFileSync(notes, 'utf8'))).toHaveLength(500);
    const empty = join(sandbox.dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const intoEmpty = await runInProcess(['export', '--user-id', 'u-five', '-o', empty], { env });
    expect(intoEmpty.code, intoEmpty.stderr).toBe(0);
    expect(parseLines(readFileSync(empty, 'utf8'))).toHaveLength(500);
    const noFile = await runInProcess(['export', '--force'], { env });
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain('--force needs -o FILE');
  });

  it('refuses a page size over 100 as a usage error', async () => {
    const r = await runInProcess(['export', '--page-size', '500'], { env: envFor(emu, sandbox) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--page-size must be a whole number from 1 to 100');
    expect(r.stdout).toBe('');
  });
});

describe('synap export against a server without a list endpoint', () => {
  const sandbox = makeSandbox();
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ detail: 'Not Found' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    sandbox.cleanup();
  });

  it('says so clearly and exits 1 without a stack trace', async () => {
    const r = await runInProcess(['export'], {
      env: { ...sandbox.env, SYNAP_BASE_URL: url, SYNAP_API_KEY: 'synap_testkey' },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/synap: error: .*list/i);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).not.toContain('synap_testkey');
  });
});

describe('a nightly backup with synap export -o', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 300);
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  /** A port nothing listens on: taken from the system, then given back. */
  async function closedPort(): Promise<number> {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { port } = s.address() as AddressInfo;
    await new Promise((r) => s.close(r));
    return port;
  }

  it('an unreachable server leaves last night’s backup byte for byte; the next night replaces it without --force', async () => {
    const backup = join(sandbox.dir, 'backup.jsonl');
    const env = envFor(emu, sandbox);
    const night1 = await runInProcess(['export', '-o', backup], { env });
    expect(night1.code, night1.stderr).toBe(0);
    const before = readFileSync(backup);
    expect(parseLines(before.toString('utf8'))).toHaveLength(300);

    const down = { ...env, SYNAP_BASE_URL: `http://127.0.0.1:${await closedPort()}` };
    for (const args of [[], ['--force']]) {
      // Its retries' backoff on a fake clock: the same attempts without their real waits.
      const night2 = await runOnClock(['export', '-o', backup, ...args], { env: down });
      expect(night2.code, night2.stderr).toBe(1);
      expect(night2.stderr).not.toMatch(STACK_LINE);
      expect(readFileSync(backup).equals(before)).toBe(true);
    }

    await seedMemories(emu, 20, 'late');
    const night3 = await runInProcess(['export', '-o', backup], { env });
    expect(night3.code, night3.stderr).toBe(0);
    const lines = parseLines(readFileSync(backup, 'utf8'));
    expect(lines).toHaveLength(320);
    expect([...lines].sort(byId)).toEqual((await allMemories(emu)).sort(byId));
    expect(existsSync(`${backup}.synap-export-partial`)).toBe(false);
    expect(existsSync(`${backup}.synap-export-state.json`)).toBe(false);
  });
});

describe('synap export under a tight rate limit', () => {
  const sandbox = makeSandbox();
  // The emulator's rate limiter and the run's waits (Retry-After, pacing) go by one clock that
  // the test moves, so the limit is exact and waiting it out takes no real time.
  const clock = new FakeClock();
  let emu: RunningEmulator;
  beforeAll(async () => {
    // No rate headers: the client learns the limit only from 429s and their Retry-After.
    emu = await startEmulator({
      processingDelayMs: 0,
      rpm: 600,
      burst: 5,
      rateHeaders: false,
      clock,
    });
    await seedMemories(emu, 1000, 'doc', (ms) => clock.advance(ms));
    // The seeding drained the key's bucket; a minute refills it, so the export starts as a
    // fresh client of this limit would and does not depend on how the seeding ended.
    await clock.advance(60_000);
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('waits out the 429s and is still complete', async () => {
    let done = false;
    const running = runInProcess(['export', '--page-size', '20'], {
      env: envFor(emu, sandbox),
      clock,
      timeoutMs: 60_000,
    }).finally(() => (done = true));
    const started = clock.now();
    // Time moves 50 ms every real millisecond or so until the run ends.
    while (!done) {
      await clock.advance(50);
      await new Promise((r) => setTimeout(r, 1));
    }
    const r = await running;
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code).toBe(0);
    const lines = parseLines(r.stdout);
    expect(lines).toHaveLength(1000);
    expect(new Set(lines.map((m) => m.memory_id)).size).toBe(1000);
    expect(emu.stats().rate_limited).toBeGreaterThan(0);
    // 50 pages and a verification pass of 50 at 10 a second, less the burst of 5: the limit
    // held on the clock the emulator counts by.
    expect(clock.now() - started).toBeGreaterThanOrEqual(9_400);
  });
});
