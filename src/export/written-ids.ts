/**
 * Every memory_id an export has written, for the verification passes (see verify.ts): 8 bytes
 * per id (a 53-bit hash in a Float64Array), so ten million ids take 80 MB where a Set of the
 * strings would take about a gigabyte. Two ids with the same hash are taken for one; for a
 * memory missing from the output to be mistaken for a written one its hash must equal one of
 * the written ids' (about 1 in 10^9 per missing memory at ten million written).
 */
export class WrittenIds {
  private hashes = new Float64Array(1024);
  private count = 0;
  /** Hashes [0, sortedUpTo) are sorted (after seal()); later ones are in `recent`. */
  private sortedUpTo = 0;
  private sealed = false;
  private readonly recent = new Set<number>();

  add(id: string): void {
    this.addHash(idHash(id));
  }

  /** Adds an id by its idHash(). */
  addHash(h: number): void {
    if (this.sealed) {
      this.recent.add(h);
      this.count += 1;
      return;
    }
    if (this.count === this.hashes.length) {
      const grown = new Float64Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[this.count++] = h;
  }

  /** Sorts what was added so far, for has(); later additions are still found. */
  seal(): void {
    if (this.sealed) {
      for (const h of this.recent) this.insertSorted(h);
      this.recent.clear();
      return;
    }
    this.hashes = this.hashes.slice(0, this.count).sort();
    this.sortedUpTo = this.count;
    this.sealed = true;
  }

  private insertSorted(h: number): void {
    if (this.sortedUpTo === this.hashes.length) {
      const grown = new Float64Array(Math.max(16, this.hashes.length * 2));
      grown.set(this.hashes.subarray(0, this.sortedUpTo));
      this.hashes = grown;
    }
    let i = this.sortedUpTo;
    while (i > 0 && this.hashes[i - 1]! > h) {
      this.hashes[i] = this.hashes[i - 1]!;
      i--;
    }
    this.hashes[i] = h;
    this.sortedUpTo += 1;
  }

  /** Whether `id` was added; only after seal(). */
  has(id: string): boolean {
    return this.hasHash(idHash(id));
  }

  /** Whether an id with this idHash() was added; only after seal(). */
  hasHash(h: number): boolean {
    if (!this.sealed) throw new Error('WrittenIds.has before seal()');
    if (this.recent.has(h)) return true;
    let lo = 0;
    let hi = this.sortedUpTo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.hashes[mid]!;
      if (v === h) return true;
      if (v < h) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

/** A 53-bit hash of a string (two 32-bit FNV-style lanes), exact in a double. */
export function idHash(id: string): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) >>> 11);
}
