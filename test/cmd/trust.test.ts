import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { seedMemories } from '../helpers/export.js';

/**
 * What the CLI trusts and what it refuses: URL credentials are never echoed, only real loopback
 * hosts may use plain http, a migration into the same instance under another URL is refused,
 * and a config directory others can read is made private.
 */
describe('trust', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 30);
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  it('a base URL with credentials is refused without echoing them', async () => {
    for (const url of ['https://user:s3cret@host:99999', 'https://user:s3cret@example.com/']) {
      const r = await runInProcess(['--base-url', url, 'memories', 'list'], {
        env: { ...box.env, SYNAP_API_KEY: emu.apiKey },
      });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toContain('s3cret');
      expect(r.stderr).not.toContain('user:');
      expect(r.stdout).not.toContain('s3cret');
    }
    const set = await runInProcess(['config', 'set', 'base_url', 'https://u:s3cret@example.com'], {
      env: box.env,
    });
    expect(set.code).toBe(2);
    expect(set.stderr).not.toContain('s3cret');
  });

  it('plain http goes to loopback only: localhost. yes, evil.localhost no', async () => {
    const port = new URL(emu.url).port;
    // Accepted (whether this machine's resolver knows `localhost.` is another matter).
    const ok = await runInProcess(['config', 'set', 'base_url', `http://localhost.:${port}`], {
      env: box.env,
    });
    expect(ok.code, ok.stderr).toBe(0);
    await runInProcess(['config', 'unset', 'base_url'], { env: box.env });
    const evil = await runInProcess(
      ['--base-url', `http://evil.localhost:${port}`, 'memories', 'list'],
      {
        env: { ...box.env, SYNAP_API_KEY: emu.apiKey },
      },
    );
    expect(evil.code).toBe(2);
    expect(evil.stderr).toContain('refusing plain http');
  });

  it('migrate into the same instance through an alias URL is refused (compared by instance id)', async () => {
    const port = new URL(emu.url).port;
    for (const [name, host] of [
      ['alias-a', 'localhost'],
      ['alias-b', '127.0.0.1'],
    ] as const) {
      const set = await runInProcess(
        ['--profile', name, 'config', 'set', 'base_url', `http://${host}:${port}`],
        { env: box.env },
      );
      expect(set.code, set.stderr).toBe(0);
      const login = await runInProcess(['--profile', name, 'auth', 'login', '--api-key-stdin'], {
        env: box.env,
        input: emu.apiKey,
      });
      expect(login.code, login.stderr).toBe(0);
    }
    const before = emu.stats().requests_by_endpoint.batch ?? 0;
    const r = await runInProcess(['migrate', '--from', 'alias-a', '--to', 'alias-b'], {
      env: box.env,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('same instance');
    expect(emu.stats().requests_by_endpoint.batch ?? 0).toBe(before);
  });

  it('a config directory others may read is made private (0700), with a warning', async () => {
    const cfg = join(box.dir, 'loose-config');
    mkdirSync(cfg, { mode: 0o777 });
    chmodSync(cfg, 0o777);
    const r = await runInProcess(['config', 'list'], {
      env: { ...box.env, SYNAP_CONFIG_DIR: cfg },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(cfg).mode & 0o777).toBe(0o700);
    expect(r.stderr).toContain(`the config directory ${cfg} was open to others (mode 0777)`);
    // Once private, nothing more to say.
    const again = await runInProcess(['config', 'list'], {
      env: { ...box.env, SYNAP_CONFIG_DIR: cfg },
    });
    expect(again.stderr).not.toContain('open to others');
  });
});
