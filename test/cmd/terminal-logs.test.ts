import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';

/**
 * Logs as cron keeps them (stderr to a pipe): timestamped lines, repeated retries counted,
 * `key: value` summaries; the progress line in a terminal (percentage and ETA from settled
 * records); and the messages of unreachable servers, refused keys and the login prompt.
 */

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** Parentheses and brackets of `text` all close, in order. */
function balanced(text: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[' };
  for (const ch of text) {
    if (ch === '(' || ch === '[') open.push(ch);
    else if (ch in pairs && open.pop() !== pairs[ch]) return false;
  }
  return open.length === 0;
}

describe('logs, progress and messages', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const KEY = 'synap_LOGScanary000000000000000000000000000000aa11';

  beforeAll(async () => {
    emu = await startEmulator({ tier: 'unlimited', processingDelayMs: 0, apiKey: KEY });
    env = { ...box.env, SYNAP_API_KEY: KEY, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  describe('cron logs (stderr to a pipe)', () => {
    it('ingest: every line of the run starts with an ISO time; the summary is key: value lines', async () => {
      const lines = [
        '{"document":"fine"}',
        '{"document":""}',
        '{"text":"no document"}',
        '{"document":"ok too"}',
      ];
      writeFileSync(join(box.dir, 'cron.jsonl'), `${lines.join('\n')}\n`);
      const r = await runInProcess(['ingest', 'cron.jsonl'], { env, cwd: box.dir });
      expect(r.code, r.stderr).toBe(3);
      const out = r.stderr.trimEnd().split('\n');
      const summaryAt = out.findIndex((l) => l.startsWith('status: '));
      expect(summaryAt).toBeGreaterThan(0);
      for (const l of out.slice(0, summaryAt)) expect(l).toMatch(ISO);
      expect(out.slice(0, summaryAt).some((l) => /failed: cron\.jsonl:2 /.test(l))).toBe(true);
      const summary = out.slice(summaryAt).filter((l) => /^[a-z0-9/ ()]+: /.test(l));
      expect(summary).toEqual(
        expect.arrayContaining(['status: partial', 'records read: 4', 'accepted: 2', 'failed: 2']),
      );
      expect(r.stderr).not.toMatch(/[│┌└─]/);
    });

    it('a server that refuses connections: one timestamped retry line and a count, no correlation id', async () => {
      const port = await closedPort();
      // The retries' backoff on a fake clock (the lines' stamps stay real time).
      const r = await runOnClock(['memories', 'list'], {
        env: { ...env, SYNAP_BASE_URL: `http://127.0.0.1:${port}` },
      });
      expect(r.code).toBe(1);
      const out = r.stderr.trimEnd().split('\n');
      const retries = out.filter((l) => l.includes('retrying'));
      expect(retries).toHaveLength(2); // the first, then "(repeated N more times)"
      for (const l of retries) expect(l).toMatch(ISO);
      expect(retries[0]).toContain(
        `no answer from 127.0.0.1:${port}: connection refused; retrying`,
      );
      expect(retries[1]).toMatch(/\(repeated \d+ more times\)$/);
      expect(r.stderr).toContain(`synap: error: connection refused (GET http://127.0.0.1:${port}/`);
      expect(r.stderr).toContain(`No server answered at 127.0.0.1:${port}`);
      expect(r.stderr).not.toMatch(/correlation/i);
      const j = await runOnClock(['--json', 'memories', 'list'], {
        env: { ...env, SYNAP_BASE_URL: `http://127.0.0.1:${port}` },
      });
      const body = JSON.parse(j.stdout);
      expect(body.error.code).toBe('NETWORK_ERROR');
      expect(body.error.correlation_id).toBeNull();
    }, 60_000);

    it('an unknown host is named, with no correlation id', async () => {
      const r = await runOnClock(['memories', 'list'], {
        env: { ...env, SYNAP_BASE_URL: 'https://synap-cli-test.invalid' },
        timeoutMs: 90_000,
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('synap-cli-test.invalid');
      expect(r.stderr).toContain('retrying');
      expect(r.stderr).not.toMatch(/correlation/i);
    }, 120_000);

    it('a refused key: the message closes its parentheses', async () => {
      const r = await runInProcess(['memories', 'list'], {
        env: { ...env, SYNAP_API_KEY: 'synap_WRONGwrongwrongwrongwrongwrong0000' },
      });
      expect(r.code).toBe(4);
      const message = r.stderr.split('\n')[0]!;
      expect(message).toMatch(/^synap: error: /);
      expect(balanced(message)).toBe(true);
    });

    it('auth login with a refused key does not suggest running auth login', async () => {
      const r = await runInProcess(['auth', 'login', '--api-key-stdin'], {
        env: { ...box.env, SYNAP_BASE_URL: emu.url },
        input: 'synap_WRONGwrongwrongwrongwrongwrong0000',
      });
      expect(r.code).toBe(4);
      expect(balanced(r.stderr.split('\n')[0]!)).toBe(true);
      expect(r.stderr).not.toContain('synap auth login');
      expect(r.stderr).toContain('Nothing was stored');
    });
  });
});
