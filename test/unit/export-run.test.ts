import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ListMemoriesResponse, Memory } from '../../src/client/types.js';
import { CliError, ExitCode, UsageError } from '../../src/errors.js';
import type { ListClient, ListPageParams } from '../../src/export/paginator.js';
import { readExportedIds, runExport, type ExportOptions } from '../../src/export/run-export.js';
import { exportStateFile } from '../../src/export/state.js';

const mem = (i: number): Memory => ({
  memory_id: `m${i}`,
  memory_type: 'fact',
  content: `content ${i} ✓`,
  confidence: 0.5,
  created_at: '2025-01-01T00:00:00Z',
  extra_field: { i },
});

class FakeList implements ListClient {
  calls: number[] = [];
  failPage?: number;
  constructor(public items: Memory[]) {}
  async list(params: ListPageParams) {
    this.calls.push(params.page);
    if (params.page === this.failPage)
      throw new CliError('HTTP 503', { exitCode: ExitCode.FAILURE });
    const start = (params.page - 1) * params.pageSize;
    const data: ListMemoriesResponse = {
      data: this.items.slice(start, start + params.pageSize),
      page: params.page,
      page_size: params.pageSize,
      total: this.items.length,
      total_pages: Math.ceil(this.items.length / params.pageSize),
    };
    return { data, status: 200, correlationId: 'c' };
  }
}

const items = Array.from({ length: 95 }, (_, i) => mem(i));
let dir: string;
let out: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'synap-export-unit-'));
  out = join(dir, 'backup.jsonl');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function opts(client: ListClient, extra: Partial<ExportOptions> = {}): ExportOptions {
  return {
    client,
    baseUrl: 'http://127.0.0.1:1',
    pageSize: 10,
    destination: { kind: 'file', path: out },
    checkpointIntervalMs: 0,
    ...extra,
  };
}

function fileIds(): string[] {
  return readFileSync(out, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as Memory).memory_id);
}

describe('runExport to a file', () => {
  it('writes every memory once, with every field, and removes the state file', async () => {
    const summary = await runExport(opts(new FakeList(items)));
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => JSON.parse(l) as Memory)).toEqual(items);
    expect(summary).toMatchObject({ memories: 95, pages: 10, complete: true, warnings: [] });
    expect(existsSync(exportStateFile(out).path)).toBe(false);
  });

  it('stops at a failed page with a checkpoint, and the same call continues there', async () => {
    const list = new FakeList(items);
    list.failPage = 4;
    const err = await runExport(opts(list)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toContain('page 4');
    expect((err as CliError).hints.join(' ')).toContain('continue from page 4');
    const state = await exportStateFile(out).read();
    expect(state).toMatchObject({ next_page: 4, lines: 30 });

    list.failPage = undefined;
    list.calls = [];
    const summary = await runExport(opts(list));
    expect(list.calls[0]).toBe(4);
    expect(fileIds()).toEqual(items.map((m) => m.memory_id));
    expect(summary).toMatchObject({ memories: 95, written_this_run: 65, resumed_from_page: 4 });
    expect(existsSync(exportStateFile(out).path)).toBe(false);
  });

  it('after a crash between writing lines and the checkpoint, cuts the file back to the checkpoint', async () => {
    const list = new FakeList(items);
    list.failPage = 3;
    await runExport(opts(list)).catch(() => undefined);
    // Simulate a kill in the middle of the next page: a full line and a torn one past the checkpoint.
    appendFileSync(out, `${JSON.stringify(mem(20))}\n{"memory_id":"m2`);
    list.failPage = undefined;
    await runExport(opts(list));
    const ids = fileIds();
    expect(ids).toEqual(items.map((m) => m.memory_id));
  });

  it('a file shorter than its checkpoint keeps its lines and pages from the start without duplicates', async () => {
    const list = new FakeList(items);
    list.failPage = 5;
    await runExport(opts(list)).catch(() => undefined);
    const text = readFileSync(out, 'utf8');
    // Lose the last 1.5 lines (as a lost write-back could): the state now claims more than is there.
    const cut = text.slice(0, text.lastIndexOf('\n', text.lastIndexOf('\n') - 1) - 7);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(out, cut);
    list.failPage = undefined;
    const warnings: string[] = [];
    await runExport(opts(list), { onWarning: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toContain('does not match its state file');
    const ids = fileIds();
    expect(new Set(ids).size).toBe(95);
    expect(ids).toHaveLength(95);
  });

  it('refuses to resume with different filters unless restart is given', async () => {
    const list = new FakeList(items);
    list.failPage = 2;
    await runExport(opts(list)).catch(() => undefined);
    list.failPage = undefined;
    const err = await runExport(opts(list, { userId: 'u1' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('--user-id (none) → u1');
    const err2 = await runExport(opts(list, { pageSize: 20 })).catch((e: unknown) => e);
    expect((err2 as UsageError).message).toContain('--page-size 10 → 20');

    const summary = await runExport(opts(list, { pageSize: 20, restart: true }));
    expect(summary.resumed_from_page).toBeNull();
    expect(fileIds()).toHaveLength(95);
  });

  it('an aborted export saves its checkpoint and says how to continue', async () => {
    const ac = new AbortController();
    const list = new FakeList(items);
    const client: ListClient = {
      list: async (p, o) => {
        if (p.page === 6) ac.abort();
        if (o?.signal?.aborted) throw new Error('aborted');
        return list.list(p);
      },
    };
    const err = await runExport(opts(client, { signal: ac.signal })).catch((e: unknown) => e);
    expect((err as CliError).exitCode).toBe(ExitCode.INTERRUPTED);
    expect(await exportStateFile(out).read()).toMatchObject({ next_page: 6, lines: 50 });
    await runExport(opts(list));
    expect(fileIds()).toEqual(items.map((m) => m.memory_id));
  });

  it('readExportedIds stops at a torn line', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(out, '{"memory_id":"a"}\n{"memory_id":"b"}\n{"memory_');
    const r = await readExportedIds(out, 1000);
    expect([...r.ids]).toEqual(['a', 'b']);
    expect(r.lines).toBe(2);
    expect(r.bytes).toBe(36);
  });
});

describe('runExport to a stream', () => {
  it('waits for drain and writes JSON Lines', async () => {
    const stream = new PassThrough({ highWaterMark: 64 });
    let text = '';
    const reading = (async () => {
      for await (const chunk of stream) {
        text += String(chunk);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const summary = await runExport(
      opts(new FakeList(items), { destination: { kind: 'stream', stream } }),
    );
    stream.end();
    await reading;
    expect(summary.complete).toBe(true);
    expect(text.split('\n').filter(Boolean)).toHaveLength(95);
  });

  it('a reader that goes away ends the export early and quietly', async () => {
    const list = new FakeList(items);
    let writes = 0;
    const stream = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        if (writes === 2) {
          const e = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
          cb(e);
        } else cb();
      },
    });
    const summary = await runExport(opts(list, { destination: { kind: 'stream', stream } }));
    expect(summary.complete).toBe(false);
    // Two pages written, and no more than the two requested ahead of the second.
    expect(list.calls.length).toBeLessThanOrEqual(4);
  });
});
