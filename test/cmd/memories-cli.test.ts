import { describe, expect, it } from 'vitest';
import { makeSandbox, type CliRun } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  expectKeyOnlyInConfig,
  listAll,
  recordingCli,
  useMemoriesEmulator,
} from '../helpers/fixtures/memories.js';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;
const runs: CliRun[] = [];
let ingestionIds: string[] = [];

const cli = recordingCli(runInProcess, () => env, runs);

useMemoriesEmulator(cli, (w) => ({ box, env, ingestionIds } = w));

describe('synap memories', () => {
  it('list --json prints the envelope; pages cover every memory exactly once', async () => {
    const seen: string[] = [];
    let totalPages = 0;
    for (let page = 1; ; page++) {
      const r = await cli([
        'memories',
        'list',
        '--json',
        '--page',
        String(page),
        '--page-size',
        '3',
      ]);
      expect(r.code).toBe(0);
      const env = JSON.parse(r.stdout).result;
      expect(env).toMatchObject({ page, page_size: 3, total: 7, total_pages: 3 });
      totalPages = env.total_pages;
      seen.push(...env.data.map((m: { memory_id: string }) => m.memory_id));
      if (page >= totalPages) break;
    }
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('list shows a table with trimmed content and a page footer; filters by user', async () => {
    const r = await cli(['memories', 'list', '--page-size', '5']);
    expect(r.code).toBe(0);
    // In a pipe: one tab-separated row per memory (id, type, content, created), no header.
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.split('\t')).toHaveLength(4);
    expect(r.stderr).toContain('page 1 of 2, 7 memories total');
    expect(r.stdout).not.toContain('long text '.repeat(20)); // trimmed
    expect(r.stderr).toContain('next page: synap memories list --page-size 5 --page 2');
    const u2 = await cli(['memories', 'list', '--json', '--user-id', 'u2']);
    expect(JSON.parse(u2.stdout).result.total).toBe(2);
  });

  it('the profile page_size is the default page size', async () => {
    expect((await cli(['config', 'set', 'page_size', '4'])).code).toBe(0);
    const r = await cli(['memories', 'list', '--json']);
    expect(JSON.parse(r.stdout).result.page_size).toBe(4);
    expect((await cli(['config', 'unset', 'page_size'])).code).toBe(0);
  });

  it('get shows one memory; --json parses', async () => {
    const [first] = await listAll(cli);
    const r = await cli(['memories', 'get', first!.memory_id]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(first!.memory_id);
    const j = await cli(['memories', 'get', first!.memory_id, '--json']);
    expect(JSON.parse(j.stdout).result.memory_id).toBe(first!.memory_id);
  });

  it('get, update and delete take a unique id prefix, like git; the whole id is what is shown', async () => {
    const all = await listAll(cli);
    // The shortest prefix of the first id that no other id starts with (at least 8).
    const id = all[0]!.memory_id;
    let n = 8;
    while (all.some((m) => m.memory_id !== id && m.memory_id.startsWith(id.slice(0, n)))) n++;
    const r = await cli(['memories', 'get', id.slice(0, n)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(id);
    const last = all[all.length - 1]!.memory_id;
    let k = 8;
    while (all.some((m) => m.memory_id !== last && m.memory_id.startsWith(last.slice(0, k)))) k++;
    const d = await cli(['memories', 'delete', last.slice(0, k), '--yes']);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toContain(last);
    expect((await listAll(cli)).map((m) => m.memory_id)).not.toContain(last);
    const none = await cli(['memories', 'get', 'beefbeef']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no memory id starts with "beefbeef"');
    // update too: the memory the prefix names is the one changed.
    const u = await cli([
      'memories',
      'update',
      id.slice(0, n),
      '--document',
      'Prefers tea',
      '--json',
    ]);
    expect(u.code, u.stderr).toBe(0);
    expect(JSON.parse(u.stdout).result.memory_id).toBe(id);
    const noneU = await cli(['memories', 'update', 'beefbeef', '--document', 'x']);
    expect(noneU.code).toBe(1);
    expect(noneU.stderr).toContain('no memory id starts with "beefbeef"');
  });

  it('get of an unknown id: exit 1 with the correlation id printed', async () => {
    const r = await cli(['memories', 'get', UNKNOWN_ID]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/correlation id: \S+/);
    const j = await cli(['memories', 'get', UNKNOWN_ID, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).error.correlation_id).toMatch(/\S/);
  });

  it('update sends the document and strategy', async () => {
    const [first] = await listAll(cli);
    const r = await cli([
      'memories',
      'update',
      first!.memory_id,
      '--document',
      'Prefers email',
      '--merge-strategy',
      'replace',
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).result.content).toContain('Prefers email');
    const bad = await cli([
      'memories',
      'update',
      first!.memory_id,
      '--document',
      'x',
      '--merge-strategy',
      'mix',
    ]);
    expect(bad.code).toBe(2);
  });

  it('delete refuses without --yes when not interactive (exit 2), deletes with --yes', async () => {
    const all = await listAll(cli);
    const victim = all[all.length - 1]!.memory_id;
    const refused = await cli(['memories', 'delete', victim]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect((await listAll(cli)).some((m) => m.memory_id === victim)).toBe(true);

    const r = await cli(['memories', 'delete', victim, '--yes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`deleted ${victim}`);
    expect((await listAll(cli)).some((m) => m.memory_id === victim)).toBe(false);
  });

  it('a malformed id (the server refuses it with 422) is a usage error naming it: exit 2, no correlation id', async () => {
    for (const args of [
      ['memories', 'get', 'nope-id'],
      ['memories', 'update', 'nope-id', '--document', 'x'],
      ['memories', 'delete', 'nope-id', '--yes'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('"nope-id" is not a valid memory id');
      expect(r.stderr).not.toContain('correlation id');
      const json = await cli(['--json', ...args]);
      expect(JSON.parse(json.stdout).error).toMatchObject({
        code: 'USAGE',
        exit_code: 2,
        correlation_id: null,
      });
    }
    const status = await cli(['memories', 'status', 'not-an-ingestion']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain('"not-an-ingestion" is not a valid ingestion id');
    // Among several ids, each malformed one is named; none deleted and all malformed: exit 2.
    const several = await cli(['memories', 'delete', 'bad-1', 'bad-2', '--yes']);
    expect(several.code).toBe(2);
    expect(several.stderr).toContain('could not delete bad-1: not a valid memory id');
    expect(several.stderr).toContain('could not delete bad-2: not a valid memory id');
  });

  it('delete of several ids with one unknown is partial (exit 3) and reports each', async () => {
    const all = await listAll(cli);
    const victim = all[0]!.memory_id;
    const r = await cli(['memories', 'delete', victim, UNKNOWN_ID, '--yes', '--json']);
    expect(r.code).toBe(3);
    const body = JSON.parse(r.stdout).result;
    expect(body.deleted.map((d: { memory_id: string }) => d.memory_id)).toEqual([victim]);
    expect(body.failed[0]).toMatchObject({ memory_id: UNKNOWN_ID });
    expect(body.failed[0].error.correlation_id).toMatch(/\S/);
  });

  it('status shows each ingestion; --wait returns once terminal; --json parses', async () => {
    const r = await cli(['memories', 'status', ...ingestionIds.slice(0, 2)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(ingestionIds[0]);
    expect(r.stdout).toContain('completed');
    const j = await cli(['memories', 'status', ingestionIds[0]!, '--wait', '--json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout).result[0]).toMatchObject({
      ingestion_id: ingestionIds[0],
      status: 'completed',
    });
    const unknown = await cli(['memories', 'status', UNKNOWN_ID]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/correlation id: \S+/);
  });

  it('--verbose prints one stderr line per request without the key', async () => {
    const r = await cli(['--verbose', 'memories', 'list', '--page-size', '2']);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('synap: http '));
    // whoami first (whose key this is), then the list.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/GET \/api\/v1\/auth\/whoami 200 \d+ms server=\S+ cid=\S+ attempt=1/);
    expect(lines[1]).toMatch(/GET \/api\/v1\/memories\S* 200 \d+ms server=\S+ cid=\S+ attempt=1/);
  });

  it.each([
    ['list', []],
    ['get', [UNKNOWN_ID]],
    ['update', [UNKNOWN_ID, '--document', 'x']],
    ['delete', [UNKNOWN_ID, '--yes']],
    ['status', [UNKNOWN_ID]],
  ])('%s with a wrong key: exit 4 naming the profile', async (sub, args) => {
    const r = await cli(['memories', sub, ...(args as string[])], {
      SYNAP_API_KEY: 'synap_wrongkeywrongkeywrongkey0000',
    });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('profile "default"');
  });

  it.each([
    ['list', []],
    ['get', [UNKNOWN_ID]],
    ['update', [UNKNOWN_ID, '--document', 'x']],
    ['delete', [UNKNOWN_ID, '--yes']],
    ['status', [UNKNOWN_ID]],
  ])('%s with no key in a non-interactive run: exit 2', async (sub, args) => {
    const r = await cli(['--profile', 'empty', 'memories', sub, ...(args as string[])]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no API key for profile "empty"');
  });

  it('every command --help ends with examples', async () => {
    for (const sub of ['list', 'get', 'update', 'delete', 'status']) {
      const r = await cli(['memories', sub, '--help']);
      expect(r.stdout).toMatch(/Examples:\n(\s+\$ .*synap .+\n){2,3}$/);
    }
  });

  it('the canary key never appears in any output, nor in any file but the config file', () => {
    expect(runs.length).toBeGreaterThan(20);
    expectKeyOnlyInConfig(runs, box);
  });
});
