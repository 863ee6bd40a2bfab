/**
 * Groups items into batches of at most `maxItems` and about `maxBytes` of payload: a batch is
 * closed before an item that would take it over the byte limit, so a few huge documents do not
 * make one giant request (a single item larger than the limit goes alone).
 */
export class Batcher<T> {
  private items: T[] = [];
  private bytes = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number = 4 * 1024 * 1024,
  ) {
    if (!(maxItems >= 1)) throw new RangeError('maxItems must be at least 1');
  }

  /** Adds an item of `size` bytes; returns the batches this closed, in order (usually none). */
  add(item: T, size: number): T[][] {
    const closed: T[][] = [];
    if (this.items.length > 0 && this.bytes + size > this.maxBytes) closed.push(this.take());
    this.items.push(item);
    this.bytes += size;
    if (this.items.length >= this.maxItems) closed.push(this.take());
    return closed;
  }

  /** The open batch when full or closed by size is returned by add(); this takes what is left. */
  flush(): T[] | undefined {
    return this.items.length > 0 ? this.take() : undefined;
  }

  private take(): T[] {
    const out = this.items;
    this.items = [];
    this.bytes = 0;
    return out;
  }
}
