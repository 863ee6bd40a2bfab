import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ListMemoriesResponse } from '../../src/client/types.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { MemoryPaginator, type ListClient } from '../../src/export/paginator.js';
import { runExport } from '../../src/export/run-export.js';
import { api } from '../helpers/emulator.js';
import { allMemories, byId, parseLines, seedMemories } from '../helpers/export.js';

/** A bare fetch list client (no retries): enough to check the export against the real envelope. */
function fetchClient(emu: RunningEmulator): ListClient {
  return {
    async list(p) {
      const q = new URLSearchParams({ page: String(p.page), page_size: String(p.pageSize) });
      if (p.userId) q.set('user_id', p.userId);
      const res = await fetch(`${emu.url}/api/v1/memories?${q}`, {
        headers: { Authorization: `Bearer ${emu.apiKey}` },
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return { data: (await res.json()) as ListMemoriesResponse, status: 200 };
    },
  };
}

describe('export against the emulator (in process)', () => {
  let emu: RunningEmulator;
  let dir: string;
  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    await seedMemories(emu, 430);
    dir = mkdtempSync(join(tmpdir(), 'synap-export-emu-'));
    // Done records of the finished exports go to the user's state directory.
    vi.stubEnv('XDG_STATE_HOME', join(dir, 'state'));
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes exactly the listed memories', async () => {
    const out = join(dir, 'a.jsonl');
    const summary = await runExport({
      client: fetchClient(emu),
      baseUrl: emu.url,
      pageSize: 100,
      destination: { kind: 'file', path: out },
    });
    expect(summary).toMatchObject({ memories: 430, pages: 5, total_reported: 430, warnings: [] });
    const lines = parseLines(readFileSync(out, 'utf8'));
    expect(lines.sort(byId)).toEqual((await allMemories(emu)).sort(byId));
  });

  it('notices memories added during the export', async () => {
    let added = false;
    const base = fetchClient(emu);
    const client: ListClient = {
      async list(p) {
        if (p.page === 3 && !added) {
          added = true;
          await seedMemories(emu, 30, 'late');
        }
        return base.list(p);
      },
    };
    const warnings: string[] = [];
    const summary = await runExport(
      {
        client,
        baseUrl: emu.url,
        pageSize: 100,
        destination: { kind: 'file', path: join(dir, 'b.jsonl') },
      },
      { onWarning: (w) => warnings.push(w) },
    );
    expect(summary.total_changed).toBe(true);
    expect(summary.memories).toBe(460); // appended at the end: nothing skipped
    expect(warnings.join('\n')).toContain('430 at the start and 460 at the end');
  });

  it('a listing filtered by user yields every memory of that user, once', async () => {
    const seen: string[] = [];
    const pages = new MemoryPaginator(fetchClient(emu), { pageSize: 50, userId: 'u-five' });
    for await (const page of pages) {
      for (const m of page.memories) {
        seen.push(m.memory_id as string);
        expect(m.user_id).toBe('u-five');
      }
    }
    // 430 + 30 late memories, every fifth of each belongs to u-five.
    expect(new Set(seen).size).toBe(92);
    expect(seen).toHaveLength(92);
  });

  it('the emulator deletes 50 exported memories and creates 50 while the export pages: none that stayed is lost', async () => {
    const base = fetchClient(emu);
    const before = await allMemories(emu);
    let churned = false;
    const client: ListClient = {
      async list(p) {
        const r = await base.list(p);
        if (p.page === 3 && !churned) {
          churned = true;
          // 50 of the 100 exported by now go (consolidation), 50 new ones come: same total.
          for (const m of before.slice(0, 100).filter((_, i) => i % 2 === 0)) {
            const res = await api(emu, 'DELETE', `/api/v1/memories/${m.memory_id}`);
            expect(res.status).toBe(200);
          }
          await seedMemories(emu, 50, 'merged');
        }
        return r;
      },
    };
    const out = join(dir, 'churn.jsonl');
    const summary = await runExport({
      client,
      baseUrl: emu.url,
      pageSize: 50,
      destination: { kind: 'file', path: out },
    });
    const written = new Set(parseLines(readFileSync(out, 'utf8')).map((m) => m.memory_id));
    const now = await allMemories(emu);
    expect(now.filter((m) => !written.has(m.memory_id))).toEqual([]);
    expect(summary.recovered_by_verify).toBe(50);
    expect(summary.partial).toBe(false);
  });
});
