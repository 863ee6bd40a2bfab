import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { json, startHostileServer, type HostileServer } from '../helpers/hostile-server.js';

/**
 * An export that cannot vouch for its completeness says so with its exit code: 3 (partial),
 * not 0 after a warning, when the server's total changed while paging or more memories were
 * reported than written.
 */

const KEY = 'synap_exportTestKey0123456789abcdefXYZ';

function memory(i: number) {
  return { memory_id: `m_${i}`, content: `memory ${i}`, created_at: '2024-01-01T00:00:00Z' };
}

/** A memory list of `pages` (each a list of memory numbers) reporting `totals` per page. */
function listing(pages: number[][], totals: number[]) {
  return (req: { path: string }) => {
    const url = new URL(req.path, 'http://x');
    if (url.pathname !== '/api/v1/memories') return undefined;
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('page_size'));
    const ids = pages[page - 1] ?? [];
    const total = totals[Math.min(page, totals.length) - 1]!;
    return json(200, {
      data: ids.map(memory),
      page,
      page_size: size,
      total,
      total_pages: Math.ceil(total / size),
    });
  };
}

describe('export completeness and the exit code', () => {
  const box = makeSandbox();
  let server: HostileServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  afterAll(() => box.cleanup());
  const run = (args: string[]) =>
    runInProcess(args, {
      env: { ...box.env, SYNAP_API_KEY: KEY, SYNAP_BASE_URL: server!.url },
      cwd: box.dir,
    });

  it('a total that changed while paging: exit 3 with the warning', async () => {
    // One memory inserted before page 2 was read: the total goes 4 → 5 and m_2 shows twice.
    server = await startHostileServer(
      listing(
        [
          [1, 2],
          [2, 3],
          [4, 5],
        ],
        [4, 5, 5],
      ),
    );
    const r = await run(['export', '--page-size', '2']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('changed during the export');
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
  });

  it('fewer memories written than the server reported: exit 3', async () => {
    server = await startHostileServer(listing([[1, 2], [3]], [4, 4]));
    const r = await run(['--json', 'export', '--page-size', '2', '-o', 'short.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    const s = JSON.parse(r.stdout).result;
    expect(s.memories).toBe(3);
  });

  it('a listing that never holds still (one memory consolidated away and one made at every request, the same total): exit 3 saying completeness could not be shown', async () => {
    let shift = 0;
    server = await startHostileServer((req) => {
      const url = new URL(req.path, 'http://x');
      if (url.pathname !== '/api/v1/memories') return undefined;
      const page = Number(url.searchParams.get('page'));
      const size = Number(url.searchParams.get('page_size'));
      const ids = Array.from({ length: 6 }, (_, i) => i + shift).slice(
        (page - 1) * size,
        page * size,
      );
      shift++;
      return json(200, {
        data: ids.map(memory),
        page,
        page_size: size,
        total: 6,
        total_pages: 3,
      });
    });
    const r = await run(['--json', 'export', '--page-size', '2', '-o', 'moving.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('completeness could not be shown');
    expect(JSON.parse(r.stdout).result).toMatchObject({ partial: true, verify_passes: 3 });
  });

  it('a quiet export is complete: exit 0', async () => {
    server = await startHostileServer(
      listing(
        [
          [1, 2],
          [3, 4],
        ],
        [4, 4],
      ),
    );
    const r = await run(['export', '--page-size', '2']);
    expect(r.code, r.stderr).toBe(0);
  });
  /** 25 memories listed `page_size` at a time, with no total, total_pages or page in the answer. */
  const untotalled = (req: { path: string }) => {
    const url = new URL(req.path, 'http://x');
    if (url.pathname !== '/api/v1/memories') return undefined;
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('page_size'));
    const ids = Array.from({ length: 25 }, (_, i) => i + 1).slice((page - 1) * size, page * size);
    return json(200, { data: ids.map(memory) });
  };

  it('a server that sends no totals: export, and memories list --all, read on to the short page', async () => {
    server = await startHostileServer(untotalled);
    const r = await run(['export', '--page-size', '10']);
    expect(r.code, r.stderr).toBe(0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { memory_id: string }).memory_id);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => `m_${i + 1}`));
    const all = await run(['memories', 'list', '--all', '--output', 'jsonl', '--page-size', '10']);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.trim().split('\n')).toHaveLength(25);
  });

  it('a server that sends no totals: one page says so and offers the next while pages are full', async () => {
    server = await startHostileServer(untotalled);
    const full = await run(['memories', 'list', '--page', '2', '--page-size', '10']);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toContain('page 2 (the server gives no total)');
    expect(full.stderr).toContain('--page 3');
    const last = await run(['memories', 'list', '--page', '3', '--page-size', '10']);
    expect(last.stderr).toContain('page 3 (the server gives no total)');
    expect(last.stderr).not.toContain('next page');
    const beyond = await run(['memories', 'list', '--page', '4', '--page-size', '10']);
    expect(beyond.stdout).toContain('No memories on page 4.');
  });

  it('a server that sends no totals and has no memories: the first page says there are none', async () => {
    server = await startHostileServer((req) =>
      req.path.startsWith('/api/v1/memories?') ? json(200, { data: [] }) : undefined,
    );
    const r = await run(['memories', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('No memories.');
  });
});
