import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, type CliRun } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { seedMemories } from '../helpers/export.js';

/**
 * `--json` prints exactly one envelope for every command: `{"status":"ok","result":…}` or
 * `{"status":"error","error":{code,message,correlation_id,exit_code}}`. One row a command (and
 * the failures every command shares); the exit code is the envelope's own.
 */

type Where = 'stdout' | 'stderr';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const WRONG_KEY = 'synap_wrongwrongwrongwrongwrong0000';

interface Row {
  name: string;
  args: () => string[];
  input?: () => string;
  /** Extra environment for this run. */
  env?: Record<string, string>;
  code: number;
  status: 'ok' | 'error';
  /** The stream that carries the envelope (export to stdout puts the data there instead). */
  on?: Where;
  /** Checks on `result` (ok) or `error` (error). */
  check?: (body: Record<string, unknown>) => void;
}

/** The one envelope of a run: the only line of its stream that is JSON with a status. */
function envelopeOf(run: CliRun, on: Where): { status: string; [k: string]: unknown } {
  const lines = run[on].split('\n').filter((l) => l.trim() !== '');
  const envelopes = lines.filter((l) => {
    try {
      const v = JSON.parse(l) as { status?: unknown };
      return v.status === 'ok' || v.status === 'error';
    } catch {
      return false;
    }
  });
  expect(envelopes, `${on}:\n${run[on]}\nstderr:\n${run.stderr}`).toHaveLength(1);
  // On stdout the envelope is all there is.
  if (on === 'stdout') expect(lines).toHaveLength(1);
  return JSON.parse(envelopes[0]!) as { status: string };
}

describe('--json: one envelope for every command', () => {
  const sandbox = makeSandbox();
  let source: RunningEmulator;
  let target: RunningEmulator;
  let env: Record<string, string>;
  let memoryId = '';
  let ingestionId = '';
  const input = join(sandbox.dir, 'envelope.jsonl');

  beforeAll(async () => {
    [source, target] = await Promise.all([
      startEmulator({ processingDelayMs: 0 }),
      startEmulator({ processingDelayMs: 0 }),
    ]);
    await seedMemories(source, 30);
    env = { ...sandbox.env, SYNAP_BASE_URL: source.url, SYNAP_API_KEY: source.apiKey };
    const list = JSON.parse(
      (await runInProcess(['--json', 'memories', 'list'], { env })).stdout,
    ) as {
      result: { data: { memory_id: string }[] };
    };
    memoryId = list.result.data[0]!.memory_id;
    ingestionId = source.documents()[0]!.ingestion_id;
    writeFileSync(input, `${JSON.stringify({ document: 'one' })}\n{"broken\n`);
    for (const [name, emu] of [
      ['src', source],
      ['dst', target],
    ] as const) {
      const e = sandbox.env;
      expect(
        (await runInProcess(['--profile', name, 'config', 'set', 'base_url', emu.url], { env: e }))
          .code,
      ).toBe(0);
      const login = await runInProcess(['--profile', name, 'auth', 'login', '--api-key-stdin'], {
        env: e,
        input: emu.apiKey,
      });
      expect(login.code, login.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await Promise.all([source.close(), target.close()]);
    sandbox.cleanup();
  });

  const rows: Row[] = [
    {
      name: 'auth login',
      args: () => ['--profile', 'fresh', 'auth', 'login', '--api-key-stdin'],
      input: () => source.apiKey,
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ profile: 'fresh', key_source: 'profile' }),
    },
    {
      name: 'auth status',
      args: () => ['auth', 'status'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r.instance_id).toMatch(/^inst_/),
    },
    {
      name: 'auth logout',
      args: () => ['--profile', 'nobody', 'auth', 'logout'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toEqual({ profile: 'nobody', removed: false }),
    },
    {
      name: 'config set',
      args: () => ['--profile', 'env', 'config', 'set', 'page_size', '7'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toEqual({ profile: 'env', key: 'page_size', value: 7 }),
    },
    {
      name: 'config get (unset: exit 1, still a result)',
      args: () => ['--profile', 'env', 'config', 'get', 'mode'],
      code: 1,
      status: 'ok',
      check: (r) => expect(r).toEqual({ profile: 'env', key: 'mode', value: null }),
    },
    {
      name: 'config list',
      args: () => ['config', 'list', '--all'],
      code: 0,
      status: 'ok',
      check: (r) => expect(Object.keys(r.profiles as object)).toContain('src'),
    },
    {
      name: 'config unset',
      args: () => ['--profile', 'env', 'config', 'unset', 'page_size'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toEqual({ profile: 'env', key: 'page_size', removed: true }),
    },
    {
      name: 'config profiles (hidden)',
      args: () => ['config', 'profiles'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toEqual(expect.arrayContaining(['src', 'dst'])),
    },
    {
      name: 'memories list',
      args: () => ['memories', 'list', '--page-size', '5'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ page: 1, page_size: 5, total: 30 }),
    },
    {
      name: 'memories get',
      args: () => ['memories', 'get', memoryId],
      code: 0,
      status: 'ok',
      check: (r) => expect(r.memory_id).toBe(memoryId),
    },
    {
      name: 'memories update',
      args: () => [
        'memories',
        'update',
        memoryId,
        '--document',
        'new text',
        '--merge-strategy',
        'replace',
      ],
      code: 0,
      status: 'ok',
      check: (r) => expect(r.memory_id).toBe(memoryId),
    },
    {
      name: 'memories status',
      args: () => ['memories', 'status', ingestionId, '--wait'],
      code: 0,
      status: 'ok',
      check: (r) => expect((r as unknown as { status: string }[])[0]!.status).toBe('completed'),
    },
    {
      name: 'credits',
      args: () => ['credits'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ balance_credits: expect.any(Number) }),
    },
    {
      name: 'credits ledger',
      args: () => ['credits', 'ledger', '--limit', '5'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ limit: 5, offset: 0, entries: expect.any(Array) }),
    },
    {
      name: 'ledger rebuild',
      args: () => ['ledger', 'rebuild'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ listed: expect.any(Number), removed: 0 }),
    },
    {
      name: 'ledger status',
      args: () => ['ledger', 'status'],
      code: 0,
      status: 'ok',
      check: (r) =>
        expect(r).toMatchObject({
          instances: [expect.objectContaining({ documents: expect.any(Number) })],
        }),
    },
    {
      name: 'ledger forget',
      args: () => ['ledger', 'forget', 'no-such-document'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ forgotten: 0, all: false }),
    },
    {
      name: 'memories delete (one unknown of two: partial, exit 3)',
      args: () => ['memories', 'delete', memoryId, UNKNOWN_ID, '--yes'],
      code: 3,
      status: 'ok',
      check: (r) => expect((r.failed as unknown[]).length).toBe(1),
    },
    {
      name: 'ingest (a bad line: partial, exit 3)',
      args: () => ['ingest', input],
      code: 3,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ status: 'partial', accepted: 1, failed: 1 }),
    },
    {
      // After the ingest above: the valid record is held unchanged, so it would not be sent.
      name: 'ingest --dry-run',
      args: () => ['ingest', input, '--dry-run'],
      code: 3,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ dry_run: true, sent: 0, unchanged: 1, failed: 1 }),
    },
    {
      name: 'export -o FILE (envelope on stdout)',
      args: () => ['export', '-o', join(sandbox.dir, 'out.jsonl')],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ complete: true, duplicates_skipped: 0 }),
    },
    {
      name: 'export to stdout (data on stdout, envelope on stderr)',
      args: () => ['export'],
      code: 0,
      status: 'ok',
      on: 'stderr',
      check: (r) => expect(r).toMatchObject({ complete: true, output: null }),
    },
    {
      name: 'migrate',
      args: () => ['migrate', '--from', 'src', '--to', 'dst'],
      code: 0,
      status: 'ok',
      check: (r) => expect(r).toMatchObject({ status: 'completed', failed: 0 }),
    },
    {
      name: 'completion',
      args: () => ['completion', 'bash'],
      code: 0,
      status: 'ok',
      check: (r) => expect(String(r)).toContain('complete -F _synap_complete synap'),
    },
    {
      name: 'a usage error (bad flag value)',
      args: () => ['memories', 'list', '--page', 'x'],
      code: 2,
      status: 'error',
      check: (e) =>
        expect(e).toEqual({
          code: 'USAGE',
          message: '--page must be a whole number >= 1 (got "x")',
          correlation_id: null,
          exit_code: 2,
        }),
    },
    {
      name: 'an unknown command',
      args: () => ['frobnicate'],
      code: 2,
      status: 'error',
      check: (e) => expect(e).toMatchObject({ code: 'USAGE', exit_code: 2 }),
    },
    {
      name: 'a server error (404) carries its code and correlation id',
      args: () => ['memories', 'get', UNKNOWN_ID],
      code: 1,
      status: 'error',
      check: (e) => {
        expect(e).toMatchObject({ code: 'NOT_FOUND', exit_code: 1 });
        expect(e.correlation_id).toMatch(/\S/);
      },
    },
    {
      name: 'a refused key (exit 4) names the profile',
      args: () => ['memories', 'list'],
      env: { SYNAP_API_KEY: WRONG_KEY },
      code: 4,
      status: 'error',
      check: (e) => expect(e.message).toContain('profile "default", key from SYNAP_API_KEY'),
    },
    {
      name: 'export to stdout failing: the error envelope is on stderr too',
      args: () => ['export'],
      env: { SYNAP_API_KEY: WRONG_KEY },
      code: 4,
      status: 'error',
      on: 'stderr',
    },
  ];

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const run = await runInProcess(['--json', ...row.args()], {
      env: { ...env, ...row.env },
      ...(row.input !== undefined ? { input: row.input() } : {}),
    });
    const envelope = envelopeOf(run, row.on ?? 'stdout');
    expect(envelope.status, run.stderr).toBe(row.status);
    expect(run.code, run.stderr).toBe(row.code);
    if (row.status === 'error') {
      const error = envelope.error as Record<string, unknown>;
      expect(Object.keys(error).sort()).toEqual(['code', 'correlation_id', 'exit_code', 'message']);
      expect(error.exit_code).toBe(row.code);
      row.check?.(error);
    } else {
      expect(Object.keys(envelope).sort()).toEqual(['result', 'status']);
      row.check?.(envelope.result as Record<string, unknown>);
    }
    if (row.name.startsWith('export to stdout (data')) {
      const result = envelope.result as { memories: number };
      expect(run.stdout.trim().split('\n')).toHaveLength(result.memories);
      expect(result.memories).toBeGreaterThan(0);
    }
  });
});
