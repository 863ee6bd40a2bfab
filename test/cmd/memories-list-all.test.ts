import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import type { Memory } from '../../src/client/types.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { allMemories, byId, parseLines, seedMemories } from '../helpers/export.js';

const FIELDS = [
  'memory_id',
  'memory_type',
  'content',
  'confidence',
  'category',
  'subcategory',
  'created_at',
  'updated_at',
  'source_document_id',
];

describe('synap memories list --all / --output', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let held: Memory[];
  let env: Record<string, string>;
  const lists = () => emu.stats().requests_by_endpoint.list ?? 0;

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 250);
    held = await allMemories(emu);
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('--all --output jsonl: every memory once, one a line, pages of 100; the count on stderr', async () => {
    const before = lists();
    const r = await runInProcess(['memories', 'list', '--all', '--output', 'jsonl'], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = parseLines(r.stdout);
    expect([...lines].sort(byId)).toEqual([...held].sort(byId));
    expect(lists() - before).toBe(3);
    expect(r.stderr).toContain('250 memories, 3 page(s)');
  });

  it('--output csv and tsv: a header, then one row a memory; quotes and line breaks survive', async () => {
    const csv = await runInProcess(
      ['memories', 'list', '--all', '--output', 'csv', '--page-size', '60'],
      {
        env,
      },
    );
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parse(csv.stdout, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual(FIELDS);
    expect(rows).toHaveLength(250);
    const first = held.find((m) => m.memory_id === rows[0]!.memory_id)!;
    expect(rows[0]!.content).toBe(first.content);
    expect(first.content).toMatch(/"tea"[\s\S]*\n/);

    const tsv = await runInProcess(['memories', 'list', '--all', '--output', 'tsv'], { env });
    const lines = tsv.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(251);
    expect(lines[0]!.split('\t')).toEqual(FIELDS);
    for (const line of lines) expect(line.split('\t')).toHaveLength(FIELDS.length);
    expect(lines[1]).toContain('\\nLine two.');
  });

  it('--output json is one array: all memories with --all, the page without', async () => {
    const all = await runInProcess(['memories', 'list', '--all', '--output', 'json'], { env });
    expect((JSON.parse(all.stdout) as Memory[]).map((m) => m.memory_id).sort()).toEqual(
      held.map((m) => m.memory_id).sort(),
    );
    const page = await runInProcess(['memories', 'list', '--output', 'json', '--page-size', '7'], {
      env,
    });
    expect(JSON.parse(page.stdout)).toHaveLength(7);
    // The hint keeps --output and --page-size.
    expect(page.stderr).toContain(
      'next page: synap memories list --output json --page-size 7 --page 2',
    );
  });

  it('--json --all: one envelope with every memory', async () => {
    const r = await runInProcess(['--json', 'memories', 'list', '--all'], { env });
    const result = JSON.parse(r.stdout).result;
    expect(result).toMatchObject({ memories: 250, pages: 3, total: 250, warnings: [] });
    expect(result.data).toHaveLength(250);
  });

  it('refuses --all with --page, --json with --output, an unknown format: exit 2', async () => {
    for (const [args, message] of [
      [['memories', 'list', '--all', '--page', '2'], '--all and --page cannot be used together'],
      [
        ['--json', 'memories', 'list', '--output', 'csv'],
        '--json and --output cannot be used together',
      ],
      [['memories', 'list', '--output', 'xml'], "argument 'xml' is invalid"],
    ] as const) {
      const r = await runInProcess([...args], { env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      if (args[0] !== '--json') expect(r.stdout).toBe('');
      else expect(JSON.parse(r.stdout).error.exit_code).toBe(2);
    }
  });
});
