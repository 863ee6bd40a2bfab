/**
 * Tracks which records (numbered 1, 2, 3… in read order) are settled — accepted, skipped, or
 * written to the failures file — and the watermark: the count of records from the start that
 * are all settled. Batches finish out of order, so records above a gap wait here until the gap
 * closes; only the records between the watermark and the reader are held.
 */
export class SettlementTracker {
  private through: number;
  private lastLine: number;
  private readonly pending = new Map<number, { line: number; settled: boolean }>();

  constructor(start = 0, startLine = 0) {
    this.through = start;
    this.lastLine = startLine;
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
      this.through = ordinal;
      this.lastLine = line;
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
      this.through += 1;
      this.lastLine = next.line;
    }
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
