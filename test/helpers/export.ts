import type { RunningEmulator } from '../../src/emulator/index.js';
import type { Memory } from '../../src/client/types.js';
import { api, doc } from './emulator.js';

/** Waits `ms` in real time (the default way the helpers below wait out a 429). */
const realWait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Seeds `count` documents through the emulator's HTTP batch endpoint (100 a request), waiting
 * out 429s with `wait` (an emulator on a FakeClock passes `(ms) => clock.advance(ms)`), so
 * export tests start from a known set. Document i has document_id `doc-<i>`; every fifth
 * belongs to user `u-five`.
 */
export async function seedMemories(
  emu: Pick<RunningEmulator, 'url' | 'apiKey'>,
  count: number,
  prefix = 'doc',
  wait: (ms: number) => Promise<void> = realWait,
): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const documents = [];
    for (let i = start; i < Math.min(count, start + 100); i++) {
      documents.push(
        doc(`Memory number ${i}: the customer prefers "tea" ☕ over coffee.\nLine two.`, {
          document_id: `${prefix}-${i}`,
          document_type: 'document',
          document_created_at: new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString(),
          user_id: i % 5 === 0 ? 'u-five' : `u-${i % 7}`,
          customer_id: 'acme',
          metadata: { n: i, source: 'seed' },
        }),
      );
    }
    for (;;) {
      const res = await api(emu, 'POST', '/api/v1/memories/batch', {
        body: { documents, fail_fast: false },
      });
      if (res.status === 429) {
        await wait(Number(res.headers['retry-after'] ?? '1') * 1000);
        continue;
      }
      if (res.status !== 200 || res.body.succeeded !== documents.length) {
        throw new Error(`seeding failed: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      }
      break;
    }
  }
}

/** Every memory the emulator lists, read directly over HTTP (page size 100), for comparisons. */
export async function allMemories(
  emu: Pick<RunningEmulator, 'url' | 'apiKey'>,
  query = '',
): Promise<Memory[]> {
  const out: Memory[] = [];
  for (let page = 1; ; page++) {
    const res = await api(emu, 'GET', `/api/v1/memories?page=${page}&page_size=100${query}`);
    if (res.status === 429) {
      await new Promise((r) => setTimeout(r, Number(res.headers['retry-after'] ?? '1') * 1000));
      page--;
      continue;
    }
    if (res.status !== 200) throw new Error(`list failed: ${res.status}`);
    out.push(...(res.body.data as Memory[]));
    if (page >= res.body.total_pages) return out;
  }
}

/** Parses JSON Lines text; throws on a line that is not JSON. */
export function parseLines(text: string): Memory[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Memory);
}

export function byId(a: Memory, b: Memory): number {
  return a.memory_id < b.memory_id ? -1 : a.memory_id > b.memory_id ? 1 : 0;
}
