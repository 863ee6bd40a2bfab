import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { api } from '../helpers/emulator.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { startScriptedServer, WHOAMI, type ScriptedServer } from '../helpers/scripted-server.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * What every request says about itself, watched on the way to a real emulator: whoami first,
 * then its client and instance ids on every request, the correlation id the CLI prints, a
 * User-Agent naming synap and its version; -v lines show the server's own time.
 */
describe('request headers: whose request, which one, from what', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let proxy: ScriptedServer;
  let identity: { client_id: string; instance_id: string };
  const run = (args: string[]) =>
    runInProcess(args, {
      env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: proxy.url },
      cwd: dir,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    proxy = await startScriptedServer(() => undefined, emu.url);
    identity = (await api(emu, 'GET', '/api/v1/auth/whoami')).body;
    writeFileSync(
      join(dir, 'three.jsonl'),
      ['a', 'b', 'c'].map((d) => JSON.stringify({ document: `User: ${d}` })).join('\n'),
    );
  });
  afterAll(async () => {
    await proxy.close();
    await emu.close();
    sandbox.cleanup();
  });

  it('an ingest: whoami first (ids empty), then X-Client-ID / X-Instance-ID on every request', async () => {
    const from = proxy.seen.length;
    const r = await run(['ingest', 'three.jsonl', '--batch-size', '1']);
    expect(r.code, r.stderr).toBe(0);
    const seen = proxy.seen.slice(from);
    expect(seen[0]!.url).toBe('/api/v1/auth/whoami');
    expect(seen[0]!.headers['x-client-id']).toBe('');
    expect(seen[0]!.headers['x-instance-id']).toBe('');
    const rest = seen.slice(1);
    expect(rest.map((s) => s.url)).toEqual([
      '/v1/credits/estimate',
      '/v1/credits/balance',
      '/api/v1/memories/batch',
      '/api/v1/memories/batch',
      '/api/v1/memories/batch',
    ]);
    for (const s of rest) {
      expect(s.headers['x-client-id']).toBe(identity.client_id);
      expect(s.headers['x-instance-id']).toBe(identity.instance_id);
    }
    for (const s of seen) {
      expect(s.headers['user-agent']).toBe(`synap-cli/${version}`);
      expect(s.headers['x-correlation-id']).toMatch(/^syn_\w+_\d+_[0-9a-f]{6}$/);
    }
    // One correlation id per call.
    expect(new Set(seen.map((s) => s.headers['x-correlation-id'])).size).toBe(seen.length);
  });

  it('the correlation id printed with an error is the one the request carried', async () => {
    const from = proxy.seen.length;
    const r = await run(['memories', 'get', '00000000-0000-4000-8000-000000000000']);
    expect(r.code).toBe(1);
    const printed = /correlation id: (\S+)/.exec(r.stderr)?.[1];
    const sent = proxy.seen.slice(from).find((s) => s.url.startsWith('/api/v1/memories/0000'))
      ?.headers['x-correlation-id'];
    expect(printed).toBeDefined();
    expect(printed).toBe(sent);
    // Once whoami has answered, the ids start with the instance's (as the SDK's do).
    expect(sent).toMatch(new RegExp(`^syn_${identity.instance_id.slice(0, 6)}_`));
  });

  it('-v lines show the X-Synap-Server-Ms the server sent, and the correlation id sent', async () => {
    const from = proxy.seen.length;
    const r = await run(['-v', 'memories', 'list']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('synap: http '));
    expect(lines).toHaveLength(2);
    const sent = proxy.seen.slice(from).map((s) => s.headers['x-correlation-id']);
    lines.forEach((line, i) => {
      expect(line).toMatch(/ 200 \d+ms server=\d+(\.\d+)?ms cid=\S+ attempt=1$/);
      expect(line).toContain(`cid=${sent[i]}`);
    });
  });

  it('-v lines leave server= out when the header is absent or not a time', async () => {
    const odd = await startScriptedServer((req) =>
      req.url === '/api/v1/auth/whoami'
        ? { ...WHOAMI, headers: { 'X-Synap-Server-Ms': 'soon' } }
        : { status: 404, body: { detail: 'Memory not found' } },
    );
    try {
      const r = await runInProcess(
        ['-v', 'memories', 'get', '00000000-0000-4000-8000-000000000000'],
        {
          env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: odd.url },
          cwd: dir,
          timeoutMs: 60_000,
        },
      );
      expect(r.code).toBe(1);
      const lines = r.stderr.split('\n').filter((l) => l.startsWith('synap: http '));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/whoami 200 \d+ms cid=\S+ attempt=1$/);
      expect(lines[1]).toMatch(/ 404 \d+ms cid=\S+ attempt=1$/);
    } finally {
      await odd.close();
    }
  });
});
