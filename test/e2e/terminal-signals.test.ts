import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { seedMemories } from '../helpers/export.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';
import { ptyUnavailableReason, startCliInPty } from '../helpers/tty.js';

/**
 * Ctrl-C and SIGTERM as a person (or a service manager) sends them, in a real terminal with
 * the spinner running: the first stops cleanly (checkpoint, summary, resume hint, lock gone,
 * exit 130 / 143), a second Ctrl-C exits 130 at once. The exit is a real exit code, not death
 * by signal (the pty helper tells the two apart).
 */

const noPty = ptyUnavailableReason();
if (noPty) console.log(`skipping terminal signal tests: ${noPty}`);

function docsOf(emu: RunningEmulator, tag: string) {
  return emu.documents().filter((d) => d.document.startsWith(`User: ${tag} message `));
}

async function waitUntil(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 25) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(noPty)('signals in a terminal', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = box.dir;

  beforeAll(async () => {
    // Slow answers, so a run is still sending when the key is pressed.
    emu = await startEmulator({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 60 });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
    // Enough memories for an export of several pages, whichever test runs first.
    await seedMemories(emu, 60, 'seed');
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  it('ingest: first Ctrl-C saves, summarises, hints, removes the lock and exits 130; the re-run finishes', async () => {
    writeChatFile(join(dir, 'a.jsonl'), 400, 'a');
    const args = ['ingest', 'a.jsonl', '--batch-size', '2', '--concurrency', '1'];
    const t = startCliInPty(args, { env, cwd: dir });
    await waitUntil(() => docsOf(emu, 'a').length >= 10, 'the first documents');
    expect(existsSync(join(dir, 'a.jsonl.synap-lock'))).toBe(true);
    await t.type('\x03');
    const r = await t.done();
    expect(r.signal, r.screen).toBeNull();
    expect(r.code, r.screen).toBe(130);
    expect(r.screen).toContain('Ctrl-C again to quit at once');
    expect(r.screen).toMatch(/records read\s*│?\s*\d/);
    expect(r.screen).toContain('run the same command again to resume');
    expect(existsSync(join(dir, 'a.jsonl.synap-lock'))).toBe(false);
    const state = JSON.parse(readFileSync(join(dir, 'a.jsonl.synap-state.json'), 'utf8'));
    expect(state.settled_records).toBeGreaterThan(0);
    expect(state.settled_records).toBeLessThan(400);

    // The re-run needs no slow answers: it resumes the same command and sends the rest.
    emu.setFaults({ latencyMs: 0 });
    try {
      const again = await runCli(args, { env, cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(storedOnce(docsOf(emu, 'a'))).toEqual({ distinct: 400, duplicates: 0 });
    } finally {
      emu.setFaults({ latencyMs: 60 });
    }
  }, 60_000);

  it('ingest: a second Ctrl-C exits 130 at once, without waiting for requests in flight', async () => {
    // Its own server: the requests abandoned here still land later, and must not change what
    // the other tests count.
    const stuck = await startEmulator({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 60 });
    try {
      writeChatFile(join(dir, 'b.jsonl'), 200, 'b');
      const t = startCliInPty(['ingest', 'b.jsonl', '--batch-size', '1', '--concurrency', '2'], {
        env: { ...env, SYNAP_API_KEY: stuck.apiKey, SYNAP_BASE_URL: stuck.url },
        cwd: dir,
      });
      await waitUntil(() => docsOf(stuck, 'b').length >= 4, 'the first documents');
      // From now on every answer takes 20 s (±50%): a clean stop would wait for them.
      stuck.setFaults({ latencyMs: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      await t.type('\x03');
      await t.waitFor(/Ctrl-C again to quit at once/);
      const pressed = Date.now();
      await t.type('\x03');
      const r = await t.done();
      const tookMs = Date.now() - pressed;
      expect(r.signal, r.screen).toBeNull();
      expect(r.code, r.screen).toBe(130);
      expect(tookMs).toBeLessThan(8_000);
      expect(r.screen).not.toMatch(/records read/);
      expect(existsSync(join(dir, 'b.jsonl.synap-lock'))).toBe(false);
    } finally {
      await stuck.close();
    }
  }, 60_000);

  it('ingest: SIGTERM stops like the first Ctrl-C but exits 143', async () => {
    writeChatFile(join(dir, 'c.jsonl'), 400, 'c');
    const t = startCliInPty(['ingest', 'c.jsonl', '--batch-size', '2', '--concurrency', '1'], {
      env,
      cwd: dir,
    });
    await waitUntil(() => docsOf(emu, 'c').length >= 10, 'the first documents');
    t.kill('SIGTERM');
    const r = await t.done();
    expect(r.signal, r.screen).toBeNull();
    expect(r.code, r.screen).toBe(143);
    expect(r.screen).toContain('run the same command again to resume');
    expect(existsSync(join(dir, 'c.jsonl.synap-lock'))).toBe(false);
    expect(existsSync(join(dir, 'c.jsonl.synap-state.json'))).toBe(true);
  }, 60_000);

  /** Starts an export in a terminal, presses Ctrl-C from page 2 on; it must exit 130 itself. */
  async function interruptedExport(args: string[], stdoutToPipe = false) {
    emu.setFaults({ latencyMs: 150 });
    const t = startCliInPty(['export', '--page-size', '5', ...args], {
      env,
      cwd: dir,
      stdoutToPipe,
    });
    await t.waitFor(/exporting: page [2-9]/);
    await t.type('\x03');
    const r = await t.done();
    emu.setFaults({ latencyMs: 60 });
    expect(r.signal, r.screen).toBeNull();
    expect(r.code, r.screen).toBe(130);
    return r;
  }

  it('export -o FILE: Ctrl-C saves the checkpoint, says how to continue and exits 130', async () => {
    const r = await interruptedExport(['-o', 'backup.jsonl']);
    expect(r.screen).toContain('Run the same command again to continue');
    expect(existsSync(join(dir, 'backup.jsonl.synap-export-state.json'))).toBe(true);
    // The continuation needs no slow answers: it is the same command, from the checkpoint on.
    emu.setFaults({ latencyMs: 0 });
    const again = await runCli(['export', '-o', 'backup.jsonl', '--page-size', '5'], {
      env,
      cwd: dir,
    }).finally(() => emu.setFaults({ latencyMs: 60 }));
    expect(again.code, again.stderr).toBe(0);
    const ids = readFileSync(join(dir, 'backup.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).memory_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(emu.documents().length);
  }, 60_000);

  it('export to a pipe: Ctrl-C at the terminal exits 130, not by signal', async () => {
    const r = await interruptedExport([], true);
    // Whole lines only: the interruption never cuts a memory in half.
    expect(r.stdout.endsWith('\n')).toBe(true);
    for (const line of r.stdout.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
  }, 60_000);

  it('memories status --wait: Ctrl-C stops waiting and exits 130', async () => {
    emu.setFaults({ latencyMs: 0 });
    const slow = await startEmulator({ processingDelayMs: 600_000, tier: 'unlimited' });
    try {
      const created = await runCli(['--json', 'ingest', '-', '--format', 'jsonl'], {
        env: { ...env, SYNAP_API_KEY: slow.apiKey, SYNAP_BASE_URL: slow.url },
        cwd: dir,
        input: '{"document":"waiting for this one"}\n',
      });
      expect(created.code, created.stderr).toBe(0);
      const ingestionId = slow.documents()[0]!.ingestion_id;
      const t = startCliInPty(['memories', 'status', ingestionId, '--wait'], {
        env: { ...env, SYNAP_API_KEY: slow.apiKey, SYNAP_BASE_URL: slow.url },
        cwd: dir,
      });
      await t.waitFor(/waiting for 1/);
      await t.type('\x03');
      const r = await t.done();
      expect(r.signal, r.screen).toBeNull();
      expect(r.code, r.screen).toBe(130);
      expect(r.screen).toContain('interrupted');
      expect(r.screen).toContain('Run the same command again to keep waiting.');
    } finally {
      await slow.close();
    }
  }, 60_000);

  it('migrate: Ctrl-C stops cleanly with a summary and exits 130; the re-run copies the rest once', async () => {
    const source = await startEmulator({ processingDelayMs: 0, tier: 'unlimited' });
    const target = await startEmulator({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 60 });
    try {
      await seedMemories(source, 120, 'm');
      for (const [profile, e] of [
        ['src', source],
        ['dst', target],
      ] as const) {
        const login = await runCli(
          ['--profile', profile, '--base-url', e.url, 'auth', 'login', '--api-key-stdin'],
          { env: box.env, input: e.apiKey },
        );
        expect(login.code, login.stderr).toBe(0);
      }
      const args = ['migrate', '--from', 'src', '--to', 'dst', '--batch-size', '1'];
      const t = startCliInPty([...args, '--concurrency', '1'], { env: box.env, cwd: dir });
      await waitUntil(() => target.documents().length >= 5, 'the first copies');
      await t.type('\x03');
      const r = await t.done();
      expect(r.signal, r.screen).toBeNull();
      expect(r.code, r.screen).toBe(130);
      expect(r.screen).toMatch(/records read/);
      expect(target.documents().length).toBeLessThan(120);
      // The re-run needs no slow answers: it copies the rest.
      target.setFaults({ latencyMs: 0 });
      const again = await runCli(args, { env: box.env, cwd: dir, timeoutMs: 60_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(target.documents()).toHaveLength(120);
      expect(new Set(target.documents().map((d) => d.document_id)).size).toBe(120);
    } finally {
      await target.close();
      await source.close();
    }
  }, 90_000);
});
