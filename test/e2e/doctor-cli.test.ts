import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';

interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

/** A Synap look-alike whose clock is an hour slow and which has no credits route. */
function skewedServer(): Promise<Server> {
  const server = createServer((req, res) => {
    const date = new Date(Date.now() - 3600_000).toUTCString();
    const headers = { 'content-type': 'application/json', date };
    if (req.url === '/health') return res.writeHead(200, headers).end('{"status":"ok"}');
    if (req.url === '/api/v1/auth/whoami') {
      return res
        .writeHead(200, {
          ...headers,
          'x-ratelimit-limit': '60',
          'x-ratelimit-remaining': '59',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 30),
        })
        .end('{"client_id":"cli_0123456789abcdef","instance_id":"inst_0123456789abcdef"}');
    }
    res.writeHead(404, headers).end('{"detail":"Not Found"}');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('synap doctor', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let skewed: Server;
  let env: Record<string, string>;

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0, tier: 'pro', credits: 1_500_000 });
    skewed = await skewedServer();
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await emu.close();
    await new Promise((r) => skewed.close(r));
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
