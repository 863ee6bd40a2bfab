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
  private readonly pending = new Map<number, { line: number; settled: boolean }>();

  /** Starts after `start` settled records, all on lines up to `startLine`. */
  constructor(start = 0, startLine = 0) {
    this.through = start;
    this.lastLine = startLine;
    this.point = { records: start, line: startLine };
  }

  /** A record was read (in order). */
  register(ordinal: number, line: number): void {
    this.pending.set(ordinal, { line, settled: false });
  }

  /**
   * A record was read and settled at once (a dry run, a record that failed mapping): the
   * same as register + settle, without touching the map when nothing is waiting before it.
   */
  registerSettled(ordinal: number, line: number): void {
    if (this.pending.size === 0 && ordinal === this.through + 1) {
      this.advance(line);
      return;
    }
    this.register(ordinal, line);
    this.settle(ordinal);
  }

  settle(ordinal: number): void {
    const p = this.pending.get(ordinal);
    if (!p) return;
    p.settled = true;
    for (;;) {
      const next = this.pending.get(this.through + 1);
      if (!next?.settled) break;
      this.pending.delete(this.through + 1);
      this.advance(next.line);
    }
  }

  /** The next record in read order (on `line`) is settled. */
  private advance(line: number): void {
    // The first record of a new line: all records before it are on earlier lines.
    if (line > this.lastLine) this.point = { records: this.through, line: line - 1 };
    this.through += 1;
    this.lastLine = line;
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
    let n = 0;
    for (const p of this.pending.values()) if (!p.settled) n += 1;
    return n;
  }
}
