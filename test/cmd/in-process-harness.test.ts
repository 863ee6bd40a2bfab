import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { rateLimited, startHostileServer, type HostileServer } from '../helpers/hostile-server.js';
import { runInProcess } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';

/**
 * The in-process runner itself (test/helpers/in-process.ts): each run is isolated from the test
 * process and from the runs before it, and a clock given to a run drives its waits.
 */

describe('runInProcess', () => {
  const t = emulatorSandbox();

  it('a run has its own environment, streams and exit code; the test process keeps its own', async () => {
    const env = process.env;
    const stdout = process.stdout;
    const stdin = process.stdin;
    const exitCode = process.exitCode;
    const sigint = process.listenerCount('SIGINT');
    const r = await runInProcess(['--json', 'memories', 'get', 'nope'], {
      env: { ...t.env, SYNAP_PROFILE: 'in-process-only' },
    });
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).status).toBe('error');
    expect(r.stderr).toContain('"nope" is not a valid memory id');
    expect(process.env).toBe(env);
    expect(process.env.SYNAP_PROFILE).toBeUndefined();
    expect(process.stdout).toBe(stdout);
    expect(process.stdin).toBe(stdin);
    expect(process.exitCode).toBe(exitCode);
    expect(process.listenerCount('SIGINT')).toBe(sigint);
  });

  it('module state does not carry over: a warning told once per process is told by each run', async () => {
    const box = makeSandbox();
    try {
      // A config file that cannot be read: each process warns once and goes on with the key.
      const configDir = box.env.SYNAP_CONFIG_DIR!;
      await runInProcess(['config', 'set', 'batch_size', '10'], { env: box.env });
      writeFileSync(join(configDir, 'config.json'), '{ not json');
      const env = { ...box.env, SYNAP_API_KEY: t.emu.apiKey, SYNAP_BASE_URL: t.emu.url };
      for (let i = 0; i < 2; i++) {
        const r = await runInProcess(['memories', 'list'], { env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain('going on without it');
      }
    } finally {
      box.cleanup();
    }
  });
});

describe('runInProcess with a clock', () => {
  const box = makeSandbox();
  const KEY = 'synap_inProcessClock0123456789abcdefXYZ';
  let server: HostileServer;
  let batches = 0;

  beforeAll(async () => {
    // The first batch is told to come back in ten minutes; the next ones are accepted.
    server = await startHostileServer((req) =>
      req.path.includes('/batch') && batches++ === 0 ? rateLimited('600') : undefined,
    );
  });
  afterAll(async () => {
    await server.close();
    box.cleanup();
  });

  it('a Retry-After of ten minutes is waited out on the clock, not in real time', async () => {
    const input = writeChatFile(join(box.dir, 'later.jsonl'), 5, 'later');
    const clock = new FakeClock();
    const started = Date.now();
    let done = false;
    const running = runInProcess(['--json', 'ingest', input], {
      env: { ...box.env, SYNAP_API_KEY: KEY, SYNAP_BASE_URL: server.url },
      clock,
      timeoutMs: 30_000,
    }).finally(() => (done = true));
    // Time moves a second every few real milliseconds until the run ends.
    while (!done) {
      await clock.advance(1000);
      await new Promise((r) => setTimeout(r, 5));
    }
    const r = await running;
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 5, failed: 0 });
    expect(batches).toBe(2);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
