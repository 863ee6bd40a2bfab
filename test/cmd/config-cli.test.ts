import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

let box: ReturnType<typeof makeSandbox>;
beforeAll(() => {
  box = makeSandbox();
});
afterAll(() => box.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  runInProcess(args, { env: { ...box.env, ...env } });
const configFile = () => join(box.env.SYNAP_CONFIG_DIR!, 'config.json');

describe('synap config', () => {
  it('set validates and stores typed values in the profile, file mode 0600', async () => {
    expect((await run(['config', 'set', 'batch_size', '50'])).code).toBe(0);
    expect((await run(['config', 'set', 'mode', 'fast'])).code).toBe(0);
    expect(
      (
        await run([
          '--profile',
          'staging',
          'config',
          'set',
          'base_url',
          'https://staging.example.com/',
        ])
      ).code,
    ).toBe(0);
    const stored = JSON.parse(readFileSync(configFile(), 'utf8'));
    expect(stored.profiles.default).toEqual({ batch_size: 50, mode: 'fast' });
    expect(stored.profiles.staging).toEqual({ base_url: 'https://staging.example.com' });
    expect(statSync(configFile()).mode & 0o777).toBe(0o600);
  });

  it.each([
    [['batch_size', '0'], 'whole number from 1 to 100'],
    [['batch_size', '500'], 'whole number from 1 to 100'],
    [['concurrency', 'lots'], 'whole number'],
    [['mode', 'slow'], 'fast, long-range'],
    [['document_type', 'tweet'], 'ai-chat-conversation'],
    [['base_url', 'http://api.example.com'], 'http'],
    [['colour', 'red'], 'unknown setting'],
    [['api_key', 'synap_abcdefghijklmnop'], 'synap auth login'],
  ])('set %j is a usage error (exit 2)', async (args, message) => {
    const r = await run(['config', 'set', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('get prints the value; an unset value is exit 1; --json parses', async () => {
    const r = await run(['config', 'get', 'batch_size']);
    expect(r).toMatchObject({ code: 0, stdout: '50\n' });
    expect((await run(['config', 'get', 'page_size'])).code).toBe(1);
    const j = await run(['config', 'get', 'mode', '--json']);
    expect(JSON.parse(j.stdout)).toEqual({
      status: 'ok',
      result: { profile: 'default', key: 'mode', value: 'fast' },
    });
  });

  it('SYNAP_PROFILE selects the profile; --profile beats it', async () => {
    const env = { SYNAP_PROFILE: 'staging' };
    expect((await run(['config', 'get', 'base_url'], env)).stdout).toBe(
      'https://staging.example.com\n',
    );
    expect((await run(['--profile', 'default', 'config', 'get', 'mode'], env)).stdout).toBe(
      'fast\n',
    );
  });

  it('list shows the profile, --all every profile; keys are masked; --json parses', async () => {
    // A key stored by hand (as `auth login` would): list must mask it.
    const stored = JSON.parse(readFileSync(configFile(), 'utf8'));
    stored.profiles.default.api_key = 'synap_CONFIGcanary000000000000000000000077ff';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(configFile(), JSON.stringify(stored));
    const r = await run(['config', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('batch_size');
    expect(r.stdout).toContain('synap_…77ff');
    expect(r.stdout).not.toContain('CONFIGcanary');
    expect(r.stdout).not.toContain('staging.example.com');
    const all = await run(['config', 'list', '--all', '--json']);
    const body = JSON.parse(all.stdout).result;
    expect(Object.keys(body.profiles)).toEqual(['default', 'staging']);
    expect(body.profiles.default.api_key).toBe('synap_…77ff');
    expect(all.stdout + all.stderr).not.toContain('CONFIGcanary');
  });

  it('unset removes a setting', async () => {
    expect((await run(['config', 'unset', 'batch_size'])).code).toBe(0);
    expect((await run(['config', 'get', 'batch_size'])).code).toBe(1);
  });

  it('the hidden profiles command prints profile names for completion', async () => {
    const r = await run(['config', 'profiles']);
    expect(r).toMatchObject({ code: 0, stdout: 'default\nstaging\n' });
    expect((await run(['config', '--help'])).stdout).not.toMatch(/^\s+profiles/m);
  });

  it('a profile base_url with plain http to a remote host is refused when used', async () => {
    const stored = JSON.parse(readFileSync(configFile(), 'utf8'));
    stored.profiles.bad = {
      base_url: 'http://api.example.com',
      api_key: 'synap_abcdefghijklmnopqrst',
    };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(configFile(), JSON.stringify(stored));
    const r = await run([
      '--profile',
      'bad',
      '--base-url',
      'http://api.example.com',
      'memories',
      'list',
    ]);
    expect(r.code).toBe(2);
  });

  it('a config directory that cannot be made: one error naming it, at once (also under /proc)', async () => {
    const file = join(box.dir, 'a-file');
    writeFileSync(file, '');
    const dirs = [join(file, 'synap')];
    // Node's recursive mkdir never returns under /proc (Linux only).
    if (existsSync('/proc/self')) dirs.push('/proc/self/synap-config');
    for (const dir of dirs) {
      const r = await runInProcess(['config', 'set', 'mode', 'fast'], {
        env: { ...box.env, SYNAP_CONFIG_DIR: dir },
        timeoutMs: 20_000,
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(
        `synap: error: cannot write the config directory ${dir}: ${
          dir.startsWith('/proc')
            ? 'no such file or directory (ENOENT)'
            : 'a part of the path is not a directory (ENOTDIR)'
        }`,
      );
    }
  });

  it('--help of every config command ends with examples', async () => {
    for (const sub of ['list', 'get', 'set', 'unset']) {
      const r = await run(['config', sub, '--help']);
      expect(r.stdout).toMatch(/Examples:\n(\s+\$ .*synap .+\n){2,3}$/);
    }
  });
});
