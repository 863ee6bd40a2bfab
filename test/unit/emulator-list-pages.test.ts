import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/emulator/http-util.js';
import { PageMarks } from '../../src/emulator/page-marks.js';
import { EmulatorStore, type ListFilter } from '../../src/emulator/store.js';
import { validateCreate } from '../../src/emulator/validate.js';

/**
 * The list serves OFFSET's answers at O(page): these tests hold every page it serves against a
 * plain model (an array in insertion order), with inserts and deletes between pages.
 */

interface Row {
  id: string;
  user: string;
  customer: string;
}

let stores: EmulatorStore[] = [];
let dirs: string[] = [];
afterEach(() => {
  for (const s of stores) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  stores = [];
  dirs = [];
});

function open(path = ':memory:'): EmulatorStore {
  const store = new EmulatorStore(path);
  stores.push(store);
  return store;
}

let counter = 0;
function insert(store: EmulatorStore, rows: Row[], user: string, customer: string): void {
  const doc = validateCreate({
    document: `memory ${counter++}`,
    user_id: user,
    customer_id: customer,
  });
  const [outcome] = store.insertDocuments([doc], 0, 0);
  if (!outcome?.ok) throw new Error('insert failed');
  const id = store.status(outcome.ingestion_id, 0)!.memory_ids[0]!;
  rows.push({ id, user, customer });
}

function expectPage(
  store: EmulatorStore,
  rows: Row[],
  filter: ListFilter,
  page: number,
  size: number,
): number {
  const matching = rows.filter(
    (r) =>
      (filter.userId === undefined || r.user === filter.userId) &&
      (filter.customerId === undefined || r.customer === filter.customerId),
  );
  const got = store.listMemories(filter, page, size);
  const where = `${JSON.stringify(filter)} page ${page} size ${size}`;
  expect(got.total, where).toBe(matching.length);
  expect(
    got.data.map((m) => m.memory_id),
    where,
  ).toEqual(matching.slice((page - 1) * size, page * size).map((r) => r.id));
  return Math.ceil(matching.length / size);
}

describe('memory list pages', () => {
  it('random inserts, deletes, page jumps and filters: every page equals OFFSET over the rows', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = seededRandom(seed);
      const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
      const store = open();
      const rows: Row[] = [];
      const users = ['u1', 'u2', 'u3'];
      const customers = ['c1', 'c2'];
      for (let i = 0; i < 150; i++) insert(store, rows, pick(users), pick(customers));
      const filters: ListFilter[] = [
        {},
        { userId: 'u1' },
        { customerId: 'c2' },
        { userId: 'u2', customerId: 'c1' },
      ];
      for (let round = 0; round < 40; round++) {
        const filter = pick(filters);
        const size = pick([1, 7, 10, 25]);
        let page = 1;
        let pages = 1;
        // Mostly in order, as export pages; now and then a jump, a re-read or a step back.
        while (page <= pages + 1 && page < 200) {
          pages = expectPage(store, rows, filter, page, size);
          const r = random();
          if (r < 0.15 && rows.length > 0) {
            const victim = rows.splice(Math.floor(random() * rows.length), 1)[0]!;
            expect(store.deleteMemory(victim.id)).toBe(true);
          } else if (r < 0.3) {
            insert(store, rows, pick(users), pick(customers));
          }
          const step = random();
          page =
            step < 0.8
              ? page + 1
              : step < 0.9
                ? Math.max(1, page - 1)
                : 1 + Math.floor(random() * (pages + 1));
        }
      }
      store.close();
      stores = stores.filter((s) => s !== store);
    }
  });

  it('sees rows another connection wrote to the same database file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-list-'));
    dirs.push(dir);
    const path = join(dir, 'emulator.db');
    const reader = open(path);
    const writer = open(path);
    const rows: Row[] = [];
    for (let i = 0; i < 30; i++) insert(writer, rows, 'u', 'c');
    expectPage(reader, rows, {}, 1, 10);
    expectPage(reader, rows, {}, 2, 10);
    writer.deleteMemory(rows.shift()!.id);
    for (let i = 0; i < 5; i++) insert(writer, rows, 'u', 'c');
    expectPage(reader, rows, {}, 3, 10);
    expectPage(reader, rows, {}, 4, 10);
    expectPage(reader, rows, { userId: 'u' }, 2, 10);
  });
});

describe('PageMarks', () => {
  it('moves marks after a deleted row up by one and drops the deleted row’s mark', () => {
    const marks = new PageMarks();
    // A total once counted is kept up to date, never counted again.
    const kept = (): number => {
      throw new Error('counted again');
    };
    const all: ListFilter = {};
    expect(marks.total(all, () => 30)).toBe(30);
    marks.remember(all, 9, 10);
    marks.remember(all, 19, 20);
    marks.remember(all, 29, 30);
    marks.deleted({ seq: 20, user_id: null, customer_id: null });
    expect(marks.total(all, kept)).toBe(29);
    expect(marks.nearest(all, 9)).toEqual({ position: 9, seq: 10 });
    expect(marks.nearest(all, 27)).toEqual({ position: 9, seq: 10 });
    expect(marks.nearest(all, 28)).toEqual({ position: 28, seq: 30 });
    // A row of another user moves nothing in a filter that does not list it.
    const user: ListFilter = { userId: 'a' };
    expect(marks.total(user, () => 3)).toBe(3);
    marks.remember(user, 2, 25);
    marks.deleted({ seq: 5, user_id: 'b', customer_id: null });
    expect(marks.nearest(user, 2)).toEqual({ position: 2, seq: 25 });
    expect(marks.total(user, kept)).toBe(3);
    marks.inserted({ user_id: 'a', customer_id: 'x' });
    expect(marks.total(user, kept)).toBe(4);
    expect(marks.total(all, kept)).toBe(28 + 1);
  });
});
