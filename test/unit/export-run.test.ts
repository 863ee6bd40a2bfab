import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ListMemoriesResponse, Memory } from '../../src/client/types.js';
import { CliError, ExitCode, UsageError } from '../../src/errors.js';
import type { ListParams } from '../../src/client/client.js';
import type { ListClient } from '../../src/export/paginator.js';
import {
  partialPathFor,
  readExportedIds,
  runExport,
  type ExportOptions,
} from '../../src/export/run-export.js';
import { donePathFor } from '../../src/export/done-record.js';
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
  async list(params: ListParams) {
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
  // Done records of finished exports go to the user's state directory.
  vi.stubEnv('XDG_STATE_HOME', join(dir, 'state'));
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function opts(client: ListClient, extra: Partial<ExportOptions> = {}): ExportOptions {
  return {
    client,
    baseUrl: 'http://127.0.0.1:1',
    instanceId: 'inst_00000000000000aa',
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
    appendFileSync(partialPathFor(out), `${JSON.stringify(mem(20))}\n{"memory_id":"m2`);
    list.failPage = undefined;
    await runExport(opts(list));
    const ids = fileIds();
    expect(ids).toEqual(items.map((m) => m.memory_id));
  });

  it('a file shorter than its checkpoint keeps its lines and pages from the start without duplicates', async () => {
    const list = new FakeList(items);
    list.failPage = 5;
    await runExport(opts(list)).catch(() => undefined);
    const text = readFileSync(partialPathFor(out), 'utf8');
    // Lose the last 1.5 lines (as a lost write-back could): the state now claims more than is there.
    const cut = text.slice(0, text.lastIndexOf('\n', text.lastIndexOf('\n') - 1) - 7);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(partialPathFor(out), cut);
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

describe('runExport replacing a backup', () => {
  it('a failed export leaves the previous file byte for byte; the next run continues and replaces it', async () => {
    await runExport(opts(new FakeList(items.slice(0, 40))));
    const before = readFileSync(out);
    const list = new FakeList(items);
    list.failPage = 4;
    const err = await runExport(opts(list)).catch((e: unknown) => e);
    expect((err as CliError).message).toContain('page 4');
    expect(readFileSync(out).equals(before)).toBe(true);
    expect(existsSync(partialPathFor(out))).toBe(true);

    list.failPage = undefined;
    list.calls = [];
    const summary = await runExport(opts(list));
    expect(list.calls[0]).toBe(4);
    expect(summary).toMatchObject({ memories: 95, resumed_from_page: 4, partial: false });
    expect(fileIds()).toEqual(items.map((m) => m.memory_id));
    expect(existsSync(partialPathFor(out))).toBe(false);
    expect(existsSync(exportStateFile(out).path)).toBe(false);
  });

  it('an aborted export leaves the previous file as it was', async () => {
    await runExport(opts(new FakeList(items.slice(0, 40))));
    const before = readFileSync(out);
    const ac = new AbortController();
    const list = new FakeList(items);
    const client: ListClient = {
      list: async (p, o) => {
        if (p.page === 3) ac.abort();
        if (o?.signal?.aborted) throw new Error('aborted');
        return list.list(p);
      },
    };
    const err = await runExport(opts(client, { signal: ac.signal })).catch((e: unknown) => e);
    expect((err as CliError).exitCode).toBe(ExitCode.INTERRUPTED);
    expect(readFileSync(out).equals(before)).toBe(true);
  });

  it("replaces last night's finished export of the same instance without force, nothing else", async () => {
    await runExport(opts(new FakeList(items.slice(0, 40))));
    expect(existsSync(donePathFor(out))).toBe(true);
    // The next night: same instance, no force needed.
    await runExport(opts(new FakeList(items)));
    expect(fileIds()).toHaveLength(95);

    // Another instance's backup at the same path is not ours to replace.
    const other = await runExport(
      opts(new FakeList(items), { instanceId: 'inst_00000000000000bb' }),
    ).catch((e: unknown) => e);
    expect(other).toBeInstanceOf(UsageError);
    expect((other as UsageError).message).toContain('not a finished export of this instance');

    // A finished backup edited since is someone's data now.
    appendFileSync(out, '{"memory_id":"hand-added","content":"x"}\n');
    const edited = await runExport(opts(new FakeList(items))).catch((e: unknown) => e);
    expect(edited).toBeInstanceOf(UsageError);
    expect(readFileSync(out, 'utf8')).toContain('hand-added');
    await runExport(opts(new FakeList(items), { force: true }));
    expect(fileIds()).toHaveLength(95);
  });

  it('FILE a symlink: the file it points to is replaced, the link stays', async () => {
    const { symlinkSync, lstatSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'real'));
    const real = join(dir, 'real', 'backup.jsonl');
    await runExport(
      opts(new FakeList(items.slice(0, 5)), { destination: { kind: 'file', path: real } }),
    );
    symlinkSync(real, out);
    await runExport(opts(new FakeList(items)));
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(fileIds()).toHaveLength(95);
  });

  it('an unrelated file needs force, and is kept byte for byte without it', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(out, 'precious\n');
    const err = await runExport(opts(new FakeList(items))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    expect(existsSync(partialPathFor(out))).toBe(false);
  });
});

/**
 * A listing in creation order that changes as a consolidating service does: after serving a
 * page it deletes `perPage` memories the export has already read and creates as many new ones,
 * so the total never changes, `churnPages` times.
 */
class ChurningList extends FakeList {
  next = 1000;
  churned = 0;
  deleted = new Set<string>();
  constructor(
    items: Memory[],
    public perPage: number,
    public churnPages: number,
  ) {
    super([...items]);
  }
  override async list(params: ListParams) {
    const r = await super.list(params);
    if (this.churned < this.churnPages && params.page > 1)
      this.churn(params.page * params.pageSize);
    return r;
  }
  /** Deletes `perPage` of the first `before` memories (already read) and appends new ones. */
  churn(before: number) {
    this.churned++;
    for (let i = 0; i < this.perPage; i++) {
      const victim = this.items.findIndex(
        (m, at) => at < before && !this.deleted.has(m.memory_id) && at % 2 === 0,
      );
      const at = victim === -1 ? 0 : victim;
      this.deleted.add(this.items[at]!.memory_id);
      this.items.splice(at, 1);
      this.items.push(mem(this.next++));
    }
  }
}

describe('runExport while the listing churns', () => {
  const many = Array.from({ length: 200 }, (_, i) => mem(i));
  /** Memories that existed from the first page to the end of the run. */
  const throughout = (list: ChurningList) =>
    many.map((m) => m.memory_id).filter((id) => !list.deleted.has(id));

  it('50 deleted and 50 created while paging: every memory that existed throughout is written, exit 0', async () => {
    const list = new ChurningList(many, 10, 5);
    const summary = await runExport(opts(list));
    const ids = new Set(fileIds());
    const missing = throughout(list).filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    expect(list.items.every((m) => ids.has(m.memory_id))).toBe(true);
    expect(fileIds()).toHaveLength(ids.size); // once each
    expect(summary.recovered_by_verify).toBeGreaterThan(0);
    expect(summary.partial).toBe(false);
  });

  it('the same churn between a failed export and its resume loses nothing', async () => {
    const list = new ChurningList(many, 0, 0);
    list.failPage = 8;
    await runExport(opts(list)).catch(() => undefined);
    list.perPage = 50;
    list.churn(70); // 50 of the 70 already written are deleted, 50 created
    list.failPage = undefined;
    const summary = await runExport(opts(list));
    const ids = new Set(fileIds());
    expect(throughout(list).filter((id) => !ids.has(id))).toEqual([]);
    expect(list.items.every((m) => ids.has(m.memory_id))).toBe(true);
    expect(summary.partial).toBe(false);
  });

  it('a listing that never holds still: exit 3 (partial) with a warning, after a bounded number of passes', async () => {
    const list = new ChurningList(many, 3, Infinity);
    const summary = await runExport(opts(list));
    expect(summary.partial).toBe(true);
    expect(summary.verify_passes).toBe(3);
    expect(summary.warnings.join('\n')).toContain('completeness could not be shown');
  });

  it('a quiet export verifies in one pass and is complete', async () => {
    const list = new FakeList(items);
    const summary = await runExport(opts(list));
    expect(summary).toMatchObject({ verify_passes: 1, recovered_by_verify: 0, partial: false });
    expect(list.calls).toHaveLength(20); // the listing, then one pass over it
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
