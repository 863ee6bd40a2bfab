import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { startDoctorServers, type Check } from '../helpers/fixtures/doctor.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

describe('synap doctor', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let skewed: Server;
  let close: () => Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ emu, skewed, close } = await startDoctorServers());
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await close();
    sandbox.cleanup();
  });

  it('the config line says whether the profile is stored', async () => {
    const own = makeSandbox();
    try {
      const envOnly = { ...own.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
      const before = await runInProcess(['doctor'], {
        env: envOnly,
        cwd: own.dir,
      });
      expect(before.stdout).toMatch(
        /✓ config\s+profile "default" \(not stored\), .*\(not created yet\)/,
      );
      const set = await runInProcess(['config', 'set', 'batch_size', '50'], {
        env: envOnly,
        cwd: own.dir,
      });
      expect(set.code, set.stderr).toBe(0);
      const after = await runInProcess(['doctor'], {
        env: envOnly,
        cwd: own.dir,
      });
      expect(after.stdout).toMatch(/✓ config\s+profile "default", /);
      expect(after.stdout).not.toContain('not stored');
    } finally {
      own.cleanup();
    }
  });

  it('no key, a refused key, an unreachable server: the line is ✗ and the exit code 1', async () => {
    const noKey = await runInProcess(['doctor'], {
      cwd: sandbox.dir,
      env: { ...env, SYNAP_API_KEY: undefined },
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toMatch(/✗ api key\s+no API key for profile "default"/);

    const wrong = await runInProcess(['--json', 'doctor'], {
      cwd: sandbox.dir,
      env: { ...env, SYNAP_API_KEY: `synap_${'x'.repeat(48)}` },
    });
    expect(wrong.code).toBe(1);
    const checks = JSON.parse(wrong.stdout).result.checks as Check[];
    expect(checks.find((c) => c.check === 'key accepted')).toMatchObject({ ok: false });
    expect(checks.find((c) => c.check === 'base url')).toMatchObject({ ok: true });

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = await runInProcess(['doctor'], {
      cwd: sandbox.dir,
      env: { ...env, SYNAP_BASE_URL: `http://127.0.0.1:${port}` },
    });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/✗ base url\s+http:\/\/127\.0\.0\.1:\d+: connection refused/);
  });

  it('a server clock an hour off is ✗ (the local clock is ahead); no credits route is ✓', async () => {
    const url = `http://127.0.0.1:${(skewed.address() as AddressInfo).port}`;
    const r = await runInProcess(['doctor'], {
      cwd: sandbox.dir,
      env: { ...env, SYNAP_BASE_URL: url },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ clock\s+36\d\d s ahead of the server/);
    expect(r.stdout).toMatch(
      /✓ rate limit\s+up to 60 requests \(free tier: 60\/min\), 59 available now, resets in \d+ s/,
    );
    expect(r.stdout).toMatch(/✓ credits\s+not offered by this server/);
  });

  it('a config directory that cannot be created is ✗ (a file stands where a parent should be)', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const blocker = join(sandbox.dir, 'not-a-dir');
    writeFileSync(blocker, 'a file\n');
    const r = await runInProcess(['doctor'], {
      cwd: sandbox.dir,
      env: { ...env, SYNAP_CONFIG_DIR: join(blocker, 'config') },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ config dir\s+.*not-a-dir is not writable \(ENOTDIR\)/);
  });
});
