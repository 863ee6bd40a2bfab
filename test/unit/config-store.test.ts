import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { takeConfigNotices } from '../../src/config/notices.js';
import { parseSetting } from '../../src/config/settings.js';
import { configDir, openReadableStore, openStore } from '../../src/config/store.js';
import { UsageError } from '../../src/errors.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'synap-store-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (p: string) => statSync(p).mode & 0o777;

describe('ConfigStore', () => {
  it('creates the directory 0700 and the file 0600, and keeps 0600 after writes', async () => {
    const dir = join(root, 'nested', 'config');
    const store = await openStore(dir);
    await store.setApiKey('default', 'synap_canary_abcdefghijklmnop');
    expect(store.path).toBe(join(dir, 'config.json'));
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.path)).toBe(0o600);
    await store.set('default', 'batch_size', '50');
    expect(mode(store.path)).toBe(0o600);
  });

  it('reading a config that does not exist is empty and creates nothing', async () => {
    const dir = join(root, 'nested', 'config');
    const store = await openStore(dir);
    expect(store.path).toBe(join(dir, 'config.json'));
    expect(store.profileNames()).toEqual([]);
    expect(store.hasProfile('default')).toBe(false);
    expect(store.getProfile('default')).toEqual({});
    expect(store.getDefaults('default')).toEqual({});
    expect(existsSync(join(root, 'nested'))).toBe(false);
  });

  it('a relative directory gives an absolute path, with or without a file', async () => {
    const rel = relative(process.cwd(), join(root, 'rel'));
    expect((await openStore(rel)).path).toBe(join(root, 'rel', 'config.json'));
    await (await openStore(rel)).set('default', 'mode', 'fast');
    expect((await openStore(rel)).path).toBe(join(root, 'rel', 'config.json'));
  });

  it('a write after reading an empty store creates the directory 0700 and the file 0600', async () => {
    const dir = join(root, 'c');
    const store = await openStore(dir);
    expect(existsSync(dir)).toBe(false);
    await store.setApiKey('default', 'synap_abcdefghijkl');
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.path)).toBe(0o600);
    // The same store now reads what it wrote, and so does a new one.
    expect(store.getProfile('default').api_key).toBe('synap_abcdefghijkl');
    expect((await openStore(dir)).profileNames()).toEqual(['default']);
  });

  it('a write starts from what the file holds now, not from what it held on open', async () => {
    const dir = join(root, 'c');
    const early = await openStore(dir);
    await (await openStore(dir)).set('other', 'mode', 'fast');
    await early.set('default', 'page_size', '10');
    expect((await openStore(dir)).profileNames()).toEqual(['default', 'other']);
  });

  it('unset and logout on a missing config write it as before (0700 dir, 0600 file)', async () => {
    const dir = join(root, 'c');
    expect(await (await openStore(dir)).unset('default', 'mode')).toBe(false);
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'config.json'))).toBe(0o600);
    rmSync(dir, { recursive: true });
    expect(await (await openStore(dir)).unset('default', 'api_key')).toBe(false);
    expect(mode(dir)).toBe(0o700);
  });

  it('tightens a file that was made world-readable by hand', async () => {
    const dir = join(root, 'c');
    await (await openStore(dir)).setApiKey('default', 'synap_x1234567890');
    const file = join(dir, 'config.json');
    chmodSync(file, 0o644);
    expect((await openStore(dir)).getProfile('default').api_key).toBe('synap_x1234567890');
    expect(mode(file)).toBe(0o600);
  });

  it.skipIf(process.platform === 'win32')(
    'tightens a config directory open to others, with a notice, whether or not it holds a file',
    async () => {
      takeConfigNotices();
      const empty = join(root, 'empty');
      mkdirSync(empty, { mode: 0o755 });
      chmodSync(empty, 0o755);
      expect((await openStore(empty)).profileNames()).toEqual([]);
      expect(mode(empty)).toBe(0o700);
      expect(existsSync(join(empty, 'config.json'))).toBe(false);
      const full = join(root, 'full');
      await (await openStore(full)).set('default', 'mode', 'fast');
      chmodSync(full, 0o750);
      expect((await openStore(full)).getDefaults('default')).toEqual({ mode: 'fast' });
      expect(mode(full)).toBe(0o700);
      const notices = takeConfigNotices();
      expect(notices).toHaveLength(2);
      expect(notices[0]).toContain(`the config directory ${empty} was open to others (mode 0755)`);
      expect(notices[1]).toContain(`the config directory ${full} was open to others (mode 0750)`);
    },
  );

  it('an unreadable config is a problem the store names: showing it is an error, writing is refused', async () => {
    const dir = join(root, 'c');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'config.json'), '{ not json', { mode: 0o600 });
    const store = await openStore(dir);
    expect(store.problem).toMatch(/is not valid JSON/);
    await expect(openReadableStore(dir)).rejects.toThrow(/is not valid JSON/);
    await expect(store.set('default', 'mode', 'fast')).rejects.toThrow(/nothing was written/);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{ not json');
  });

  it('keeps profiles apart and round-trips typed values', async () => {
    const store = await openStore(join(root, 'c'));
    await store.setApiKey('staging', 'synap_stagingkey123456');
    await store.set('staging', 'page_size', '25');
    await store.set('default', 'mode', 'fast');
    await store.set('default', 'document_type', 'email');
    expect(store.profileNames()).toEqual(['default', 'staging']);
    expect(store.getProfile('staging')).toEqual({
      api_key: 'synap_stagingkey123456',
      page_size: 25,
    });
    expect(store.getDefaults('default')).toEqual({ mode: 'fast', document_type: 'email' });
    // A second instance reads what the first wrote.
    const again = await openStore(join(root, 'c'));
    expect(again.getProfile('default').mode).toBe('fast');
    expect(JSON.parse(readFileSync(again.path, 'utf8')).profiles.staging.page_size).toBe(25);
  });

  it('unset (of a setting or the key) reports whether something was there; empty profiles vanish', async () => {
    const store = await openStore(join(root, 'c'));
    await store.setApiKey('p', 'synap_abcdefghijkl');
    expect(await store.unset('p', 'api_key')).toBe(true);
    expect(await store.unset('p', 'api_key')).toBe(false);
    expect(store.hasProfile('p')).toBe(false);
    await store.set('p', 'concurrency', '8');
    expect(await store.unset('p', 'concurrency')).toBe(true);
    expect(await store.unset('p', 'concurrency')).toBe(false);
  });

  it('ignores hand-edited invalid values in defaults', async () => {
    const dir = join(root, 'c');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ profiles: { default: { batch_size: 500, mode: 'fast' } } }),
    );
    expect((await openStore(dir)).getDefaults('default')).toEqual({ mode: 'fast' });
  });

  it('refuses bad profile names', async () => {
    const store = await openStore(join(root, 'c'));
    await expect(store.setApiKey('../evil', 'synap_abcdefghijkl')).rejects.toThrow(UsageError);
    await expect(store.set('a b', 'mode', 'fast')).rejects.toThrow(UsageError);
  });
});

describe('parseSetting', () => {
  it.each([
    ['batch_size', '1', 1],
    ['batch_size', '100', 100],
    ['page_size', '20', 20],
    ['concurrency', '64', 64],
    ['mode', 'long-range', 'long-range'],
    ['document_type', 'meeting-transcript', 'meeting-transcript'],
    ['base_url', 'https://api.example.com/', 'https://api.example.com'],
    ['base_url', 'http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
  ])('%s=%s is accepted', (key, raw, expected) => {
    expect(parseSetting(key, raw)).toEqual(expected);
  });

  it.each([
    ['batch_size', '0'],
    ['batch_size', '101'],
    ['batch_size', '1.5'],
    ['page_size', 'abc'],
    ['concurrency', '65'],
    ['concurrency', '-1'],
    ['mode', 'slow'],
    ['document_type', 'support-ticket'],
    ['base_url', 'not a url'],
    ['base_url', 'http://example.com'],
    ['api_key', 'synap_x'],
    ['colour', 'red'],
  ])('%s=%s is a usage error', (key, raw) => {
    expect(() => parseSetting(key, raw)).toThrow(UsageError);
  });
});

describe('configDir', () => {
  it('honours SYNAP_CONFIG_DIR, else XDG_CONFIG_HOME/synap', async () => {
    expect(await configDir({ SYNAP_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = join(root, 'xdg');
    try {
      if (process.platform === 'linux') {
        expect(await configDir({})).toBe(join(root, 'xdg', 'synap'));
      }
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });
});
