import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/config/store.js';
import { takeConfigNotices } from '../../src/config/notices.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { CliError, UsageError } from '../../src/errors.js';
import type { GlobalOptions } from '../../src/global-options.js';
import { openSession } from '../../src/session.js';

/**
 * A config that cannot be used must not stop a run that has its key in SYNAP_API_KEY (cron):
 * one warning, and the run goes on. Files synap did not create keep their mode. Nothing of the
 * config's text is quoted (it can hold a key). A key with a carriage return or another control
 * character is trimmed or refused before anything is sent, never retried as a network error.
 */

const globals = (over: Partial<GlobalOptions> = {}): GlobalOptions => ({
  profile: 'default',
  baseUrl: emu.url,
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

const SECRET = 'synap_SECRETsecret0123456789';
/** Config texts that do not parse, each holding a key that must never be quoted back. */
const CORRUPT = [
  `{"profiles":{"default":{"api_key":"${SECRET}"`,
  `{"profiles":{"default":{"api_key":"${SECRET}", x}}}`,
  `{"profiles":{"default":{"api_key":'${SECRET}'}}}`,
  `\u0000\u0001${SECRET}`,
];

let emu: RunningEmulator;
let dir: string;
let saved: NodeJS.ProcessEnv;

beforeAll(async () => {
  emu = await startEmulator({ processingDelayMs: 0, tier: 'unlimited' });
});
afterAll(async () => emu.close());

beforeEach(() => {
  saved = { ...process.env };
  dir = mkdtempSync(join(tmpdir(), 'synap-config-'));
  delete process.env.SYNAP_API_KEY;
  delete process.env.SYNAP_BASE_URL;
  takeConfigNotices();
});
afterEach(() => {
  process.env = saved;
  rmSync(dir, { recursive: true, force: true });
});

/** What the user is told: every notice and warning, and the error if there was one. */
function told(warnings: string[], err?: unknown): string {
  const e = err as CliError | undefined;
  return [...takeConfigNotices(), ...warnings, e?.message ?? '', ...(e?.hints ?? [])].join('\n');
}

/** True when `text` holds any 8 characters in a row of `config` (letters, digits, _). */
function quotes(text: string, config: string): boolean {
  for (let i = 0; i + 8 <= config.length; i++) {
    const piece = config.slice(i, i + 8);
    if (/[A-Za-z0-9_]{8}/.test(piece) && text.includes(piece)) return true;
  }
  return false;
}

describe('SYNAP_CONFIG_DIR naming a file', () => {
  it('leaves the file and its mode alone; an env key runs with one warning', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'my notes\n');
    chmodSync(file, 0o644);
    process.env.SYNAP_CONFIG_DIR = file;
    process.env.SYNAP_API_KEY = emu.apiKey;
    const s = await openSession(globals());
    expect(s.keySource).toBe('env');
    await expect(s.client.whoami()).resolves.toBeDefined();
    const said = told(s.warnings);
    expect(said).toContain('SYNAP_CONFIG_DIR');
    expect(said).toContain('not a directory');
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readFileSync(file, 'utf8')).toBe('my notes\n');
  });

  it('without an env key: a usage error naming it, and the file untouched', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'my notes\n');
    chmodSync(file, 0o640);
    process.env.SYNAP_CONFIG_DIR = file;
    const err = await openSession(globals()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(told([], err)).toMatch(/SYNAP_CONFIG_DIR.*not a directory/);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('a write (auth login, config set) is refused and changes nothing', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'my notes\n');
    chmodSync(file, 0o644);
    const store = await openStore(file);
    const err = await store.set('default', 'batch_size', '50').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readFileSync(file, 'utf8')).toBe('my notes\n');
  });
});

describe('a config.json that cannot be read', () => {
  it.each(CORRUPT.map((text, i) => [i, text]))(
    'corrupt #%s: an env key runs, warned once; no text of the file is quoted',
    async (_i, text) => {
      const config = join(dir, 'config');
      mkdirSync(config, { mode: 0o700 });
      writeFileSync(join(config, 'config.json'), text as string, { mode: 0o600 });
      process.env.SYNAP_CONFIG_DIR = config;
      process.env.SYNAP_API_KEY = emu.apiKey;
      const first = await openSession(globals());
      const second = await openSession(globals({ profile: 'default' }));
      await expect(first.client.whoami()).resolves.toBeDefined();
      const said = told([...first.warnings, ...second.warnings]);
      expect(said.match(/not valid JSON/g) ?? []).toHaveLength(1);
      expect(said).toContain(join(config, 'config.json'));
      expect(quotes(said, text as string)).toBe(false);
      expect(said).not.toContain('SECRET');
      // The file is as it was: it may hold keys the user wants back.
      expect(readFileSync(join(config, 'config.json'), 'utf8')).toBe(text);
    },
  );

  it.each(CORRUPT.map((text, i) => [i, text]))(
    'corrupt #%s without an env key: exit 2 naming the file and where, quoting nothing',
    async (_i, text) => {
      const config = join(dir, 'config');
      mkdirSync(config, { mode: 0o700 });
      writeFileSync(join(config, 'config.json'), text as string, { mode: 0o600 });
      process.env.SYNAP_CONFIG_DIR = config;
      const err = await openSession(globals()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      const said = told([], err);
      expect(said).toContain(join(config, 'config.json'));
      expect(said).toMatch(/not valid JSON( \(line \d+, column \d+\))?/);
      expect(quotes(said, text as string)).toBe(false);
    },
  );

  it('a directory where config.json should be: an env key runs with a warning', async () => {
    const config = join(dir, 'config');
    mkdirSync(join(config, 'config.json'), { recursive: true, mode: 0o700 });
    process.env.SYNAP_CONFIG_DIR = config;
    process.env.SYNAP_API_KEY = emu.apiKey;
    const s = await openSession(globals());
    await expect(s.client.whoami()).resolves.toBeDefined();
    expect(told(s.warnings)).toMatch(/config\.json.*(a directory|cannot be read)/);
  });
});

describe('a key holding control characters', () => {
  beforeEach(() => {
    process.env.SYNAP_CONFIG_DIR = join(dir, 'config');
  });

  it.each([
    ['a carriage return', '\r'],
    ['CR LF', '\r\n'],
    ['a space and a tab', ' \t'],
  ])('a key ending in %s (pasted from Windows) is trimmed and works', async (_name, tail) => {
    process.env.SYNAP_API_KEY = `${emu.apiKey}${tail}`;
    const s = await openSession(globals());
    expect(s.apiKey).toBe(emu.apiKey);
    await expect(s.client.whoami()).resolves.toBeDefined();
  });

  it.each([
    ['a control character', '\u0001'],
    ['a carriage return', '\r'],
    ['a space', ' '],
    ['a DEL', '\u007f'],
  ])('a key with %s inside is refused before anything is sent', async (_name, ch) => {
    const before = emu.stats().requests_total;
    process.env.SYNAP_API_KEY = `${emu.apiKey.slice(0, 10)}${ch}${emu.apiKey.slice(10)}`;
    const err = await openSession(globals()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    const said = told([], err);
    expect(said).toContain('SYNAP_API_KEY');
    expect(said).toMatch(/control character|space/);
    expect(said).not.toContain(emu.apiKey.slice(10, 16));
    expect(emu.stats().requests_total).toBe(before);
  });

  it('a stored key with a control character names the profile', async () => {
    const store = await openStore(join(dir, 'config'));
    await store.setApiKey('default', `${emu.apiKey.slice(0, 8)}\u0002${emu.apiKey.slice(8)}`);
    const err = await openSession(globals()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(told([], err)).toContain('profile "default"');
  });
});

describe('commands that read the config itself', () => {
  it('config list and get say what is wrong (exit 2) instead of showing nothing', async () => {
    const { runCli } = await import('../helpers/cli.js');
    const config = join(dir, 'config');
    mkdirSync(config, { mode: 0o700 });
    writeFileSync(join(config, 'config.json'), CORRUPT[0]!, { mode: 0o600 });
    const env = { SYNAP_CONFIG_DIR: config, HOME: dir };
    for (const args of [
      ['config', 'list'],
      ['config', 'get', 'batch_size'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('is not valid JSON');
      expect(quotes(r.stderr, CORRUPT[0]!)).toBe(false);
    }
    // doctor marks the config line ✗ with the same words, and goes on with its other checks.
    const doctor = await runCli(['doctor'], {
      env: { ...env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
    });
    expect(doctor.stdout).toMatch(/✗ config\s+.*is not valid JSON/);
    expect(doctor.stdout).toMatch(/✓ key accepted/);
    expect(doctor.code).toBe(1);
  }, 30_000);
});
