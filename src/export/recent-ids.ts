/**
 * The memory_ids an export has written most recently, up to a fixed number, for removing the
 * repeats that offset paging produces. A repeat happens when memories are inserted ahead of
 * the export's position: the items at the end of a page shift onto the next pages and come
 * back. Only the ids written in the last `capacity` places can come back that way (unless
 * more than `capacity` memories were inserted between two page reads), so memory stays flat
 * however large the export, instead of growing with one entry per memory.
 */
export const RECENT_IDS = 20_000;

export class RecentIds {
  private readonly set = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  /** `capacity` Infinity keeps every id (for re-checking a whole file from its start). */
  constructor(readonly capacity = RECENT_IDS) {
    if (capacity !== Infinity && (!Number.isInteger(capacity) || capacity < 1)) {
      throw new RangeError(`capacity must be a positive integer or Infinity (got ${capacity})`);
    }
    this.ring = capacity === Infinity ? [] : new Array<string | undefined>(capacity);
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  /** Remembers `id` (the oldest goes once `capacity` are held); false when it is held already. */
  addNew(id: string): boolean {
    const before = this.set.size;
    this.set.add(id);
    if (this.set.size === before) return false;
    if (this.capacity === Infinity) return true;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    return true;
  }

  /** The ids held, oldest first. */
  [Symbol.iterator](): IterableIterator<string> {
    return this.set.values();
  }
}
