import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { SynapClient } from '../../src/client/client.js';
import { AuthenticationError } from '../../src/client/errors.js';
import { DEFAULT_BASE_URL } from '../../src/client/base-url.js';
import { openSession } from '../../src/session.js';
import { openStore, type ConfigStore } from '../../src/config/store.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { UsageError } from '../../src/errors.js';
import type { GlobalOptions } from '../../src/global-options.js';

const globals = (over: Partial<GlobalOptions> = {}): GlobalOptions => ({
  profile: 'default',
  baseUrl: undefined,
  baseUrlFlag: false,
  local: false,
  json: false,
  quiet: false,
  verbose: false,
  interactive: false,
  color: false,
  stderrColor: false,
  ...over,
});

let dir: string;
let saved: NodeJS.ProcessEnv;
let store: ConfigStore;

beforeEach(async () => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'synap-session-'));
  process.env.SYNAP_CONFIG_DIR = join(dir, 'config');
  delete process.env.SYNAP_API_KEY;
  delete process.env.SYNAP_BASE_URL;
  store = await openStore(join(dir, 'config'));
});
afterEach(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe('openSession precedence', () => {
  it('defaults: production base URL; no key is a UsageError naming the profile', async () => {
    const err = await openSession(globals()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('profile "default"');
    const s = await openSession(globals(), { requireKey: false });
    expect(s.baseUrl).toBe(DEFAULT_BASE_URL);
    expect(s.apiKey).toBe('');
  });

  it('with no config file, a session (env key) reads no profile and creates no config dir', async () => {
    process.env.SYNAP_API_KEY = 'synap_envkey0000000000';
    const s = await openSession(globals());
    expect([s.apiKey, s.keySource, s.defaults]).toEqual(['synap_envkey0000000000', 'env', {}]);
    expect(s.store.profileNames()).toEqual([]);
    expect(existsSync(join(dir, 'config'))).toBe(false);
  });

  it('profile key and base URL are used; env key beats the profile key; flag URL beats profile', async () => {
    await store.setApiKey('default', 'synap_profilekey000000');
    await store.set('default', 'base_url', 'https://profile.example.com');
    await store.set('default', 'batch_size', '10');
    let s = await openSession(globals());
    expect([s.apiKey, s.keySource, s.baseUrl]).toEqual([
      'synap_profilekey000000',
      'profile',
      'https://profile.example.com',
    ]);
    expect(s.defaults).toEqual({ base_url: 'https://profile.example.com', batch_size: 10 });
    process.env.SYNAP_API_KEY = 'synap_envkey0000000000';
    s = await openSession(globals({ baseUrl: 'https://flag.example.com/' }));
    expect([s.apiKey, s.keySource, s.baseUrl]).toEqual([
      'synap_envkey0000000000',
      'env',
      'https://flag.example.com',
    ]);
  });

  it('an explicit profile (migrate --from/--to) prefers its own key and URL over env', async () => {
    await store.setApiKey('b', 'synap_bkey000000000000');
    await store.set('b', 'base_url', 'https://b.example.com');
    process.env.SYNAP_API_KEY = 'synap_envkey0000000000';
    const s = await openSession(globals({ baseUrl: 'https://env.example.com' }), { profile: 'b' });
    expect([s.profile, s.apiKey, s.baseUrl]).toEqual([
      'b',
      'synap_bkey000000000000',
      'https://b.example.com',
    ]);
  });

  it('refuses plain http to a remote host, allows loopback', async () => {
    await store.setApiKey('default', 'synap_profilekey000000');
    await expect(openSession(globals({ baseUrl: 'http://api.example.com' }))).rejects.toThrow(
      UsageError,
    );
    const s = await openSession(globals({ baseUrl: 'http://127.0.0.1:9' }));
    expect(s.baseUrl).toBe('http://127.0.0.1:9');
  });

  it('returns a warning about a key without the synap_ prefix (not printed, never the key)', async () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
      writes.push(String(c));
      return true;
    });
    process.env.SYNAP_API_KEY = 'sk-other-vendor-secret';
    const s = await openSession(globals());
    expect(writes).toEqual([]);
    expect(s.warnings.join('\n')).toContain('does not start with "synap_"');
    expect(s.warnings.join('\n')).not.toContain('sk-other-vendor-secret');
  });
});

describe('auth errors name the profile', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0 });
  });
  afterAll(() => emu.close());

  it('a refused key becomes an AuthenticationError mentioning profile and key source', async () => {
    await store.setApiKey('ops', 'synap_wrongwrongwrong0000');
    const s = await openSession(globals({ profile: 'ops', baseUrl: emu.url }));
    const err = await s.client.whoami().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).exitCode).toBe(4);
    expect((err as Error).message).toContain('profile "ops"');
    expect((err as AuthenticationError).hints.join(' ')).toContain(
      'synap auth login --profile ops',
    );
    expect((err as Error).message).not.toContain('wrongwrong');
  });

  it('the right key works; the client is the SynapClient itself', async () => {
    process.env.SYNAP_API_KEY = emu.apiKey;
    const s = await openSession(globals({ baseUrl: emu.url }));
    expect(s.client).toBeInstanceOf(SynapClient);
    const who = await s.client.whoami();
    expect(who.data.instance_id).toMatch(/^inst_/);
    await s.close();
  });
});
