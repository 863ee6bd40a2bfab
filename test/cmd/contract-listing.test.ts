import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { startScriptedServer, WHOAMI, type ScriptedServer } from '../helpers/scripted-server.js';

const ONE_LINE =
  'synap: error: this deployment has no memory listing endpoint (GET /api/v1/memories): memories list and export need one\n';

/**
 * No official SDK has a list route: a deployment may answer 404 (the emulator's
 * --absent-routes list) or 405. memories list and export then exit 1 with one line about the
 * deployment, not a "not found" with a correlation id.
 */
describe('a deployment without a listing endpoint', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let noGet: ScriptedServer;
  const run = (baseUrl: string, key: string, args: string[]) =>
    runInProcess(args, {
      env: { ...sandbox.env, SYNAP_API_KEY: key, SYNAP_BASE_URL: baseUrl },
      cwd: sandbox.dir,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0, absentRoutes: ['list'] });
    noGet = await startScriptedServer((req) =>
      req.url === '/api/v1/auth/whoami'
        ? WHOAMI
        : { status: 405, body: { detail: 'Method Not Allowed' }, headers: { Allow: 'POST' } },
    );
  });
  afterAll(async () => {
    await noGet.close();
    await emu.close();
    sandbox.cleanup();
  });

  it.each([
    ['memories list', ['memories', 'list']],
    ['export', ['export']],
    ['export -o', ['export', '-o', 'backup.jsonl']],
  ])('404 (--absent-routes list): %s exits 1 with one line', async (_name, args) => {
    const r = await run(emu.url, emu.apiKey, args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    // Export may say it is starting first; the error is one line, and the last.
    expect(r.stderr.endsWith(ONE_LINE)).toBe(true);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('synap:'))).toEqual([
      ONE_LINE.trimEnd(),
    ]);
    expect(r.stderr).not.toContain('correlation id');
  });

  it('405: the same line; --json names the code and has no correlation id', async () => {
    const r = await run(noGet.url, 'synap_nolist0000000000000000000', ['memories', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(ONE_LINE);
    const j = await run(noGet.url, 'synap_nolist0000000000000000000', ['--json', 'export']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stderr.trim().split('\n').pop()!)).toEqual({
      status: 'error',
      error: {
        code: 'LIST_NOT_SUPPORTED',
        message:
          'this deployment has no memory listing endpoint (GET /api/v1/memories): memories list and export need one',
        correlation_id: null,
        exit_code: 1,
      },
    });
  });
});
