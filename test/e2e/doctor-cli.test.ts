import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { startDoctorServers, type Check } from '../helpers/fixtures/doctor.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';

describe('synap doctor', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let close: () => Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    ({ emu, close } = await startDoctorServers());
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await close();
    sandbox.cleanup();
  });

  it('a working set-up: every line ✓ with what it found, exit 0; in a pipe no escape codes', async () => {
    const r = await runShell('synap doctor | cat', { env, cwd: sandbox.dir });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual(Array(lines.length).fill('✓'));
    expect(r.stdout).toMatch(/base url\s+http:\/\/127\.0\.0\.1:\d+ answered in \d+ ms/);
    expect(r.stdout).toMatch(/key accepted\s+instance inst_/);
    // One answer cannot tell a token bucket from a fixed window: neither is named.
    expect(r.stdout).toMatch(
      /rate limit\s+up to 600 requests \(pro tier: 600\/min\), \d+ available now/,
    );
    expect(r.stdout).not.toMatch(/window|bucket/);
    // Numbers grouped as everywhere else.
    expect(r.stdout).toMatch(/credits\s+1,500,000 credits/);
    expect(r.stdout).toMatch(/clock\s+in step with the server/);
    expect(r.stdout).toContain(`current dir   ${sandbox.dir} is writable`);
    expect(r.stdout).not.toContain('\x1b[');
    const json = await runCli(['--json', 'doctor'], { env });
    const result = JSON.parse(json.stdout).result as { ok: boolean; checks: Check[] };
    expect(result.ok).toBe(true);
    expect(result.checks.map((c) => c.check)).toEqual([
      'config',
      'api key',
      'base url',
      'key accepted',
      'rate limit',
      'clock',
      'credits',
      'config dir',
      'data dir',
      'current dir',
    ]);
  });
});
