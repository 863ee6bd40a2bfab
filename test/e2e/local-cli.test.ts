import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, runCli } from '../helpers/cli.js';

let box: ReturnType<typeof makeSandbox>;
beforeAll(() => {
  box = makeSandbox();
});
afterAll(() => box.cleanup());

describe('--local', () => {
  it('memories list works on a fresh machine: no key, no account, db in XDG_DATA_HOME', async () => {
    const r = await runCli(['--local', 'memories', 'list'], { env: box.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('No memories.\n');
    expect(existsSync(join(box.env.XDG_DATA_HOME!, 'synap', 'emulator.db'))).toBe(true);
    const j = await runCli(['--local', 'memories', 'list', '--json'], { env: box.env });
    expect(JSON.parse(j.stdout).result).toMatchObject({ data: [], total: 0 });
  });

  it('keeps the same instance across runs and shows it in auth status', async () => {
    const a = JSON.parse(
      (await runCli(['--local', 'auth', 'status', '--json'], { env: box.env })).stdout,
    ).result;
    const b = JSON.parse(
      (await runCli(['--local', 'auth', 'status', '--json'], { env: box.env })).stdout,
    ).result;
    expect(a.local).toBe(true);
    expect(a.key_source).toBe('local');
    expect(a.base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(b.instance_id).toBe(a.instance_id);
  });

  it('ignores a wrong SYNAP_API_KEY (the embedded emulator provides its own)', async () => {
    const r = await runCli(['--local', 'memories', 'list', '--json'], {
      env: { ...box.env, SYNAP_API_KEY: 'synap_notthelocalkey000000000' },
    });
    expect(r.code).toBe(0);
  });
});
