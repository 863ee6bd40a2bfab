import { noCounts } from './checkpointer.js';

/** How a record settled, for the counts under the watermark ('none': a dry run's record). */
export type Settled = 'accepted' | 'skipped' | 'failed' | 'unchanged' | 'none';

/**
 * Tracks which records (numbered 1, 2, 3… in read order) are settled — accepted, skipped, or
 * written to the failures file — and the watermark: the count of records from the start that
 * are all settled. Batches finish out of order, so records above a gap wait here until the gap
 * closes; only the records between the watermark and the reader are held.
 *
 * Record lines never decrease in read order, so it also knows where a resume can start reading:
 * the first `resumePoint.records` records are settled and are exactly those starting on a line
 * up to `resumePoint.line` (several records may share a line, as in a one-line JSON array).
 */
export class SettlementTracker {
  private through: number;
  private lastLine: number;
  private point: { records: number; line: number };
  private readonly pending = new Map<number, { line: number; settled: Settled | undefined }>();
  /** Outcomes of the records under the watermark that this tracker settled. */
  readonly counts = noCounts();

  /** Starts after `start` settled records, all on lines up to `startLine`. */
  constructor(start = 0, startLine = 0) {
    this.through = start;
    this.lastLine = startLine;
    this.point = { records: start, line: startLine };
  }

  /** A record was read (in order). */
  register(ordinal: number, line: number): void {
    this.pending.set(ordinal, { line, settled: undefined });
  }

  /**
   * A record was read and settled at once (a dry run, a record that failed mapping): the
   * same as register + settle, without touching the map when nothing is waiting before it.
   */
  registerSettled(ordinal: number, line: number, how: Settled = 'none'): void {
    if (this.pending.size === 0 && ordinal === this.through + 1) {
      this.advance(line, how);
      return;
    }
    this.register(ordinal, line);
    this.settle(ordinal, how);
  }

  settle(ordinal: number, how: Settled = 'none'): void {
    const p = this.pending.get(ordinal);
    if (!p) return;
    p.settled = how;
    for (;;) {
      const next = this.pending.get(this.through + 1);
      if (next?.settled === undefined) break;
      this.pending.delete(this.through + 1);
      this.advance(next.line, next.settled);
    }
  }

  /** The next record in read order (on `line`) is settled. */
  private advance(line: number, how: Settled): void {
    // The first record of a new line: all records before it are on earlier lines.
    if (line > this.lastLine) this.point = { records: this.through, line: line - 1 };
    this.through += 1;
    this.lastLine = line;
    if (how !== 'none') this.counts[how] += 1;
  }

  /** Where a resume starts reading: see the class comment. */
  get resumePoint(): { records: number; line: number } {
    return this.point;
  }

  /** Every record up to this one (in read order) is settled. */
  get settledThrough(): number {
    return this.through;
  }

  /** The source line of the last record under the watermark (for people). */
  get watermarkLine(): number {
    return this.lastLine;
  }

  /** Records read but not yet settled (in flight, batched, or behind a gap). */
  get unsettled(): number {
    return [...this.pending.values()].filter((p) => p.settled === undefined).length;
  }
}
