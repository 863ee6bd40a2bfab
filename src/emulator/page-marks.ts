/**
 * Bookkeeping that lets the memory list serve `page`/`page_size` in O(page) instead of OFFSET's
 * O(position): per filter, the total (kept up to date on every insert and delete) and marks
 * "the row at position p has seq s" left by the pages served. The next page seeks past the
 * nearest mark (`seq > s`) and skips only the gap, which is zero when paging in order.
 *
 * The answers are exactly OFFSET's over the current rows: inserts only ever append (a new row's
 * seq is above every existing one), so they move no position; a delete moves every later row one
 * position up, which `deleted` applies to the marks.
 */

export interface ListFilter {
  userId?: string;
  customerId?: string;
}

export interface RowIdentity {
  seq: number;
  user_id: string | null;
  customer_id: string | null;
}

interface FilterState {
  filter: ListFilter;
  total: number | undefined;
  /** position → seq, in insertion order (oldest evicted first). */
  marks: Map<number, number>;
}

const MAX_FILTERS = 256;
const MAX_MARKS = 4096;

function matches(filter: ListFilter, row: Omit<RowIdentity, 'seq'>): boolean {
  return (
    (filter.userId === undefined || row.user_id === filter.userId) &&
    (filter.customerId === undefined || row.customer_id === filter.customerId)
  );
}

export class PageMarks {
  private readonly states = new Map<string, FilterState>();

  private state(filter: ListFilter): FilterState {
    const key = JSON.stringify([filter.userId ?? null, filter.customerId ?? null]);
    let state = this.states.get(key);
    if (!state) {
      if (this.states.size >= MAX_FILTERS) {
        this.states.delete(this.states.keys().next().value!);
      }
      state = { filter, total: undefined, marks: new Map() };
      this.states.set(key, state);
    }
    return state;
  }

  /** The number of rows `filter` matches: kept, or counted by `count` and kept from then on. */
  total(filter: ListFilter, count: () => number): number {
    return (this.state(filter).total ??= count());
  }

  /** The mark with the largest position ≤ `position`, if any. */
  nearest(filter: ListFilter, position: number): { position: number; seq: number } | undefined {
    if (position < 0) return undefined;
    const { marks } = this.state(filter);
    const exact = marks.get(position);
    if (exact !== undefined) return { position, seq: exact };
    let best: { position: number; seq: number } | undefined;
    for (const [p, seq] of marks) {
      if (p <= position && (!best || p > best.position)) best = { position: p, seq };
    }
    return best;
  }

  remember(filter: ListFilter, position: number, seq: number): void {
    const { marks } = this.state(filter);
    if (marks.size >= MAX_MARKS && !marks.has(position)) {
      marks.delete(marks.keys().next().value!);
    }
    marks.set(position, seq);
  }

  /** A row was appended (its seq is above every other row's). */
  inserted(row: Omit<RowIdentity, 'seq'>): void {
    for (const state of this.states.values()) {
      if (state.total !== undefined && matches(state.filter, row)) state.total++;
    }
  }

  /** A row was deleted: later rows move one position up. */
  deleted(row: RowIdentity): void {
    for (const state of this.states.values()) {
      if (!matches(state.filter, row)) continue;
      if (state.total !== undefined) state.total--;
      const moved = new Map<number, number>();
      for (const [position, seq] of state.marks) {
        if (seq < row.seq) moved.set(position, seq);
        else if (seq > row.seq) moved.set(position - 1, seq);
      }
      state.marks = moved;
    }
  }

  /** Forget everything (after a rollback, or when another connection wrote to the database). */
  reset(): void {
    this.states.clear();
  }
}
