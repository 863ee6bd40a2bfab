import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, runCli } from '../helpers/cli.js';
import { api } from '../helpers/emulator.js';

interface Started {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `synap emulator …` and resolves once it has printed its banner (or exited). */
async function startCli(args: string[], env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'emulator', ...args], {
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SYNAP_'))),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner; stderr: ${err}`)), 20_000);
    const check = () => {
      if (/Ctrl-C/.test(err) || out.includes('"api_key"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** A throwaway emulator on any free port that accepts the key synap_mine. */
const IN_MEMORY = ['--port', '0', '--db', ':memory:', '--api-key', 'synap_mine'];

describe('synap emulator (CLI)', () => {
  const sandbox = makeSandbox();
  let running: Started | undefined;
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.exited;
    }
    running = undefined;
  });
  afterAll(() => sandbox.cleanup());

  it('--port 0 prints the URL and a key that works; SIGTERM stops it with exit 0', async () => {
    running = await startCli(['--port', '0', '--processing-delay', '0'], sandbox.env);
    const out = running.stdout();
    const url = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[0];
    const key = /synap_[A-Za-z0-9]{40,}/.exec(out)?.[0];
    expect(url, out).toBeDefined();
    expect(key, out).toBeDefined();
    expect(out).toContain('development tool');
    const emu = { url: url!, apiKey: key! };
    const who = await api(emu, 'GET', '/api/v1/auth/whoami');
    expect(who.status).toBe(200);
    expect(who.headers['x-ratelimit-limit']).toBe('60'); // the CLI defaults to the free tier
    const created = await api(emu, 'POST', '/api/v1/memories/create', {
      body: { document: 'from the CLI test', document_id: 'cli-1' },
    });
    expect(created.status).toBe(200);
    expect((await api(emu, 'GET', '/api/v1/auth/whoami', { key: null })).status).toBe(401);
    // Default database: the user data dir (XDG_DATA_HOME on Linux).
    expect(existsSync(join(sandbox.env.XDG_DATA_HOME!, 'synap', 'emulator.db'))).toBe(true);

    running.child.kill('SIGTERM');
    const { code } = await running.exited;
    expect(code).toBe(0);
    expect(running.stderr()).toContain('stopped');
    expect(running.stderr()).not.toContain(key!);
  });

  it('restarts on the same database with the same key and data; --json prints one object', async () => {
    running = await startCli(['--port', '0', '--json', '--tier', 'unlimited'], sandbox.env);
    const banner = JSON.parse(running.stdout().trim().split('\n')[0]!) as {
      result: { url: string; api_key: string; tier: string };
    };
    expect(banner.result.tier).toBe('unlimited');
    const emu = { url: banner.result.url, apiKey: banner.result.api_key };
    const docs = await api(emu, 'GET', '/_emulator/documents', { key: null });
    expect(docs.body.map((d: { document_id: string }) => d.document_id)).toEqual(['cli-1']);
    const who = await api(emu, 'GET', '/api/v1/auth/whoami');
    expect(who.status).toBe(200);
    expect(who.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('--api-key, --db :memory: and faults from flags', async () => {
    running = await startCli([...IN_MEMORY, '--fail-rate', '1', '--no-rate-headers'], sandbox.env);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(running.stdout())![0];
    const res = await api({ url, apiKey: 'synap_mine' }, 'GET', '/api/v1/auth/whoami');
    expect(res.status).toBe(503);
    expect(res.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('--storm-rate/--storm-ms and --spike-rate/--spike-ms from flags', async () => {
    running = await startCli(
      [
        ...IN_MEMORY,
        '--storm-rate',
        '1',
        '--storm-ms',
        '4000',
        '--spike-rate',
        '1',
        '--spike-ms',
        '200',
      ],
      sandbox.env,
    );
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(running.stdout())![0];
    const started = performance.now();
    const res = await api({ url, apiKey: 'synap_mine' }, 'GET', '/api/v1/auth/whoami');
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(3);
    const stats = await api({ url, apiKey: 'synap_mine' }, 'GET', '/_emulator/stats');
    expect(stats.body.faults).toMatchObject({ storms: 1, spikes: 1, storm_refusals: 1 });
  });

  it('bad flag values are usage errors (exit 2)', async () => {
    const bad = await runCli(['emulator', '--fail-rate', '2'], {
      env: sandbox.env,
      timeoutMs: 20_000,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--fail-rate');
    const tier = await runCli(['emulator', '--tier', 'gold'], {
      env: sandbox.env,
      timeoutMs: 20_000,
    });
    expect(tier.code).toBe(2);
    const storm = await runCli(['emulator', '--storm-rate', '1.5'], {
      env: sandbox.env,
      timeoutMs: 20_000,
    });
    expect(storm.code).toBe(2);
    expect(storm.stderr).toContain('--storm-rate');
  });

  it('--help says it is a development tool and shows examples', async () => {
    const help = await runCli(['emulator', '--help'], { env: sandbox.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('development tool');
    expect(help.stdout).toMatch(/Examples:[\s\S]*\$ synap emulator/);
    for (const flag of [
      '--port',
      '--db',
      '--api-key',
      '--tier',
      '--rpm',
      '--burst',
      '--no-rate-headers',
      '--processing-delay',
      '--latency',
      '--fail-rate',
      '--reset-rate',
      '--credits',
      '--spike-rate',
      '--spike-ms',
      '--storm-rate',
      '--storm-ms',
      '--seed',
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
