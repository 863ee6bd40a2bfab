import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeSandbox, runCli, spawnCli, type CliProcess } from '../helpers/cli.js';
import { FAULTS, networkAddresses } from '../../src/emulator/index.js';
import { api, doc } from '../helpers/emulator.js';

/**
 * Starts `synap emulator …` and resolves once it has printed its banner (or exited): with
 * --json the object on stdout; else the key on stdout and "Ctrl-C" on stderr, which arrive on
 * two pipes in either order.
 */
async function startCli(args: string[], env: Record<string, string>): Promise<CliProcess> {
  const started = spawnCli(['emulator', ...args], { env });
  const deadline = Date.now() + 20_000;
  let ended = false;
  void started.done.then(
    () => (ended = true),
    () => (ended = true),
  );
  const banner = () =>
    started.stdout().includes('"api_key"') ||
    (/Ctrl-C/.test(started.stderr()) && started.stdout().includes('API key:'));
  while (!banner() && !ended) {
    if (Date.now() > deadline) throw new Error(`no banner; stderr: ${started.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return started;
}

/** A throwaway emulator on any free port that accepts the key synap_mine. */
const IN_MEMORY = ['--port', '0', '--db', ':memory:', '--api-key', 'synap_mine'];

describe('synap emulator (CLI)', () => {
  const sandbox = makeSandbox();
  let running: CliProcess | undefined;
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGKILL');
      await running.done;
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
    const { code } = await running.done;
    expect(code).toBe(0);
    expect(running.stderr()).toContain('stopped');
    expect(running.stderr()).not.toContain(key!);
  });

  it('the banner prints the login command for itself, which works as printed', async () => {
    running = await startCli(['--port', '0', '--db', ':memory:'], sandbox.env);
    const out = running.stdout();
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    const key = /API key:\s+(synap_\w+)/.exec(out)![1]!;
    const login = /^\s+(synap --profile emulator auth login --base-url \S+)\s*$/m.exec(out)?.[1];
    expect(login, out).toBe(`synap --profile emulator auth login --base-url ${url}`);
    const args = login!.split(' ').slice(1);
    const r = await runCli([...args, '--api-key-stdin'], { env: sandbox.env, input: key });
    expect(r.code, r.stderr).toBe(0);
    const list = await runCli(['--profile', 'emulator', 'memories', 'list'], { env: sandbox.env });
    expect(list.code, list.stderr).toBe(0);
  });

  it('a second emulator on the same database is warned: it shares the first one’s key and data', async () => {
    const db = join(sandbox.dir, 'shared.db');
    running = await startCli(['--port', '0', '--db', db], sandbox.env);
    const first = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(running.stdout())![1]!;
    const second = await startCli(['--port', '0', '--db', db], sandbox.env);
    try {
      expect(second.stderr()).toContain(`another emulator (${first}, pid`);
      expect(second.stderr()).toMatch(/shares its API key and data.*--db/s);
    } finally {
      second.child.kill('SIGTERM');
      await second.done;
    }
    // Once the first stops, a new one on that database is alone again.
    running.child.kill('SIGTERM');
    await running.done;
    const third = await startCli(['--port', '0', '--db', db], sandbox.env);
    third.child.kill('SIGTERM');
    await third.done;
    expect(third.stderr()).not.toContain('another emulator');
  });

  it('restarts on the same database with the same key and data; --json prints one object', async () => {
    running = await startCli(['--port', '0', '--json', '--tier', 'unlimited'], sandbox.env);
    const banner = JSON.parse(running.stdout().trim().split('\n')[0]!) as {
      result: { url: string; api_key: string; tier: string };
    };
    expect(banner.result.tier).toBe('unlimited');
    const emu = { url: banner.result.url, apiKey: banner.result.api_key };
    const docs = await api(emu, 'GET', '/_emulator/documents');
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

  it('--limiter window counts a fixed one-minute window (Reset on the minute)', async () => {
    running = await startCli([...IN_MEMORY, '--rpm', '3', '--limiter', 'window'], sandbox.env);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(running.stdout())![0];
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await api({ url, apiKey: 'synap_mine' }, 'GET', '/api/v1/auth/whoami'));
    const resets = new Set(answers.map((a) => a.headers['x-ratelimit-reset']));
    // Four requests within a second or two: at most one window boundary crossed.
    const statuses = answers.map((a) => a.status);
    if (resets.size === 1) {
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(answers.map((a) => a.headers['x-ratelimit-remaining'])).toEqual(['2', '1', '0', '0']);
    }
    for (const r of resets) expect(Number(r) % 60).toBe(0);
    const bad = await runCli(['emulator', '--limiter', 'leaky'], { env: sandbox.env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limiter');
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

  it('--help lists every flag, every fault of the fault table among them, and docs/emulator.md names them', async () => {
    const help = await runCli(['emulator', '--help'], { env: sandbox.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('development tool');
    expect(help.stdout).toMatch(/Examples:[\s\S]*\$ synap emulator/);
    const faultFlags = Object.values(FAULTS).map((f) => f.flag.split(' ')[0]!);
    expect(faultFlags).toEqual(expect.arrayContaining(['--fail-rate', '--credit-stop']));
    const page = readFileSync(resolve(import.meta.dirname, '../../docs/emulator.md'), 'utf8');
    for (const flag of [
      '--port',
      '--db',
      '--api-key',
      '--tier',
      '--rpm',
      '--burst',
      '--no-rate-headers',
      '--limiter',
      '--processing-delay',
      '--isolation',
      '--scoping',
      '--seed',
      ...faultFlags,
    ]) {
      expect(help.stdout).toContain(flag);
      expect(page, `docs/emulator.md mentions ${flag}`).toContain(flag);
    }
  });

  it('contract flags: --isolation, --scoping, --credit-stop, --error-format, --absent-routes', async () => {
    running = await startCli(
      [
        ...IN_MEMORY,
        '--isolation',
        'equals_customer',
        '--scoping',
        '--credit-stop',
        'subscription_inactive',
        '--error-format',
        'error',
        '--absent-routes',
        'list',
      ],
      sandbox.env,
    );
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(running.stdout())![0];
    const emu = { url, apiKey: 'synap_mine' };
    const who = await api(emu, 'GET', '/api/v1/auth/whoami');
    expect(who.body.user_context_isolation).toBe('equals_customer');
    const stop = await api(emu, 'POST', '/api/v1/memories/create', { body: doc('x') });
    expect(stop.status).toBe(429);
    expect(stop.body).toMatchObject({ reason: 'subscription_inactive' }); // top level: --error-format error
    expect((await api(emu, 'GET', '/api/v1/memories')).status).toBe(404);
    expect((await api(emu, 'GET', '/v1/credits/balance')).status).toBe(200);
  });

  it('--scoping takes a ladder; a scope path on it is checked', async () => {
    running = await startCli([...IN_MEMORY, '--scoping', 'org,site,user'], sandbox.env);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(running.stdout())![0];
    const emu = { url, apiKey: 'synap_mine' };
    const ok = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { scope: { org: 'acme', site: 'paris' } }),
    });
    expect(ok.status).toBe(200);
    const bad = await api(emu, 'POST', '/api/v1/memories/create', {
      body: doc('x', { scope: { customer: 'acme' } }),
    });
    expect(bad.status).toBe(422);
  });

  it('a --db that cannot hold a database: one line naming it, exit 1', async () => {
    const file = join(sandbox.dir, 'not-a-dir');
    writeFileSync(file, 'plain text');
    for (const [db, why] of [
      [join(file, 'emu.db'), 'a part of the path is not a directory (ENOTDIR)'],
      [file, 'file is not a database'],
    ]) {
      const res = await runCli(['emulator', '--port', '0', '--db', db!], {
        env: sandbox.env,
        timeoutMs: 20_000,
      });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr.trim().split('\n')).toEqual([
        `synap: error: cannot open the emulator database ${db}: ${why}`,
      ]);
    }
  });

  it('a port in use: one line naming the port, exit 2', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const res = await runCli(['emulator', '--port', String(port), '--db', ':memory:'], {
        env: sandbox.env,
        timeoutMs: 20_000,
      });
      expect(res.code).toBe(2);
      const lines = res.stderr.trim().split('\n');
      expect(lines, res.stderr).toHaveLength(1);
      expect(lines[0]).toContain(`port ${port}`);
      expect(lines[0]).toContain('in use');
    } finally {
      blocker.close();
    }
  });

  it('--host 0.0.0.0 prints the addresses other machines reach and warns that it is exposed', async () => {
    running = await startCli([...IN_MEMORY, '--host', '0.0.0.0'], sandbox.env);
    const expected = networkAddresses('IPv4');
    for (const address of expected) expect(running.stdout()).toContain(`http://${address}:`);
    expect(running.stderr()).toMatch(/warning: the emulator is exposed beyond this machine/);
    // Loopback still works; the machine's own address passes the Host guard when exposed.
    const port = /http:\/\/127\.0\.0\.1:(\d+)/.exec(running.stdout())![1];
    expect(
      (await api({ url: `http://127.0.0.1:${port}`, apiKey: 'synap_mine' }, 'GET', '/health'))
        .status,
    ).toBe(200);
    if (expected[0]) {
      const viaNetwork = await api(
        { url: `http://${expected[0]}:${port}`, apiKey: 'synap_mine' },
        'GET',
        '/api/v1/auth/whoami',
      );
      expect(viaNetwork.status).toBe(200);
    }
  });

  it('bad contract flag values are usage errors (exit 2)', async () => {
    for (const args of [
      ['--credit-stop', 'out_of_money'],
      ['--error-format', 'xml'],
      ['--absent-routes', 'list,whoami'],
      ['--isolation', 'b2c'],
      ['--scoping', 'team,team'],
    ]) {
      const res = await runCli(['emulator', ...args], { env: sandbox.env, timeoutMs: 20_000 });
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr).toContain(args[0]!);
    }
  });
});
