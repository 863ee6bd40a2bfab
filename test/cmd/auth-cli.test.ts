import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { configFileOf, KEY, useAuthEmulator, storedProfilesOf } from '../helpers/fixtures/auth.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';

let emu: RunningEmulator;
let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;

useAuthEmulator((w) => ({ emu, box, env } = w));

const configFile = () => configFileOf(box);
const storedProfiles = () => storedProfilesOf(box);

describe('synap auth', () => {
  it('status without a key is a usage error (exit 2) that says how to provide one', async () => {
    const r = await runInProcess(['auth', 'status'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no API key for profile "default"');
    expect(r.stderr).toContain('SYNAP_API_KEY');
    expect(r.stderr).toContain('synap auth login');
  });

  it('login without --api-key-stdin refuses to prompt when not interactive (exit 2)', async () => {
    const r = await runInProcess(['auth', 'login'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--api-key-stdin');
  });

  it('login with a wrong key: exit 4, names the profile, stores nothing', async () => {
    const r = await runInProcess(['--profile', 'ops', 'auth', 'login', '--api-key-stdin'], {
      env,
      input: 'synap_wrongwrongwrongwrongwrong0000\n',
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('profile "ops"');
    expect(r.stderr).not.toContain('wrongwrongwrong');
    expect(storedProfiles().ops?.api_key).toBeUndefined();
  });

  it('login --api-key-stdin verifies, stores the key (file 0600) and shows instance and client', async () => {
    const r = await runInProcess(['auth', 'login', '--api-key-stdin'], { env, input: `${KEY}\n` });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/inst_[0-9a-f]{16}/);
    expect(r.stdout).toMatch(/cli_[0-9a-f]{16}/);
    expect(r.stdout).toContain('synap_…1a2b');
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(storedProfiles().default?.api_key).toBe(KEY);
    expect(statSync(configFile()).mode & 0o777).toBe(0o600);
    expect(statSync(box.env.SYNAP_CONFIG_DIR!).mode & 0o777).toBe(0o700);
  });

  it('status shows profile, base URL, masked key, instance and client; --json parses', async () => {
    const r = await runInProcess(['auth', 'status'], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('default');
    expect(r.stdout).toContain(emu.url);
    expect(r.stdout).toContain('synap_…1a2b');
    const j = await runInProcess(['auth', 'status', '--json'], { env });
    expect(j.code).toBe(0);
    const body = JSON.parse(j.stdout).result;
    expect(JSON.parse(j.stdout).status).toBe('ok');
    expect(body).toMatchObject({
      profile: 'default',
      base_url: emu.url,
      key: 'synap_…1a2b',
      key_source: 'profile',
    });
    expect(body.instance_id).toMatch(/^inst_/);
  });

  it('SYNAP_API_KEY beats the stored key; a wrong one is exit 4 naming profile and source', async () => {
    const r = await runInProcess(['auth', 'status'], {
      env: { ...env, SYNAP_API_KEY: 'synap_envwrongenvwrongenvwrong99' },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('profile "default"');
    expect(r.stderr).toContain('SYNAP_API_KEY');
    expect(r.stderr).not.toContain('envwrongenvwrong');
    const j = await runInProcess(['auth', 'status', '--json'], {
      env: { ...env, SYNAP_API_KEY: 'synap_envwrongenvwrongenvwrong99' },
    });
    expect(j.code).toBe(4);
    expect(JSON.parse(j.stdout).error.exit_code).toBe(4);
  });

  it('warns about a key without the synap_ prefix', async () => {
    const r = await runInProcess(['auth', 'status'], {
      env: { ...env, SYNAP_API_KEY: 'sk-not-synap-123' },
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('does not start with "synap_"');
  });

  it('logout forgets the key; status is then exit 2', async () => {
    const r = await runInProcess(['auth', 'logout'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Removed');
    expect(storedProfiles().default?.api_key).toBeUndefined();
    expect((await runInProcess(['auth', 'status'], { env })).code).toBe(2);
    const again = await runInProcess(['auth', 'logout', '--json'], { env });
    expect(JSON.parse(again.stdout)).toEqual({
      status: 'ok',
      result: { profile: 'default', removed: false },
    });
  });

  it('login --api-key-stdin to a host that does not answer: says how to point at another host', async () => {
    // The retries' backoff on a fake clock: the same attempts without their real waits.
    const r = await runOnClock(
      [
        '--profile',
        'nohost',
        '--base-url',
        'http://127.0.0.1:1',
        'auth',
        'login',
        '--api-key-stdin',
      ],
      { env, input: KEY },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connection refused');
    expect(r.stderr).toMatch(/--base-url <url>.*synap emulator/s);
    expect(storedProfiles().nohost).toBeUndefined();
  }, 30_000);

  it('--help ends with examples', async () => {
    for (const sub of ['login', 'status', 'logout']) {
      const r = await runInProcess(['auth', sub, '--help'], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Examples:\n(\s+\$ .*synap .+\n){2,3}$/);
    }
  });
});
