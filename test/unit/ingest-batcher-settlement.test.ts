import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/ingest/batcher.js';
import { SettlementTracker } from '../../src/ingest/settlement.js';

describe('Batcher', () => {
  it('closes a batch at maxItems and keeps the rest for flush()', () => {
    const b = new Batcher<number>(3);
    const closed: number[][] = [];
    for (let i = 1; i <= 7; i++) closed.push(...b.add(i, 10));
    expect(closed).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(b.flush()).toEqual([7]);
    expect(b.flush()).toBeUndefined();
  });

  it('closes a batch before an item that would pass the byte limit; a huge item goes alone', () => {
    const b = new Batcher<string>(100, 100);
    expect(b.add('a', 40)).toEqual([]);
    expect(b.add('b', 40)).toEqual([]);
    expect(b.add('c', 40)).toEqual([['a', 'b']]);
    expect(b.add('huge', 500)).toEqual([['c']]);
    expect(b.add('d', 10)).toEqual([['huge']]);
    expect(b.flush()).toEqual(['d']);
  });

  it('with maxItems 1 every add returns its own batch, even after a byte-limit close', () => {
    const b = new Batcher<number>(1, 10);
    expect(b.add(1, 50)).toEqual([[1]]);
    expect(b.add(2, 5)).toEqual([[2]]);
    expect(b.flush()).toBeUndefined();
  });
});

describe('SettlementTracker', () => {
  it('advances the watermark only over a settled prefix (batches finish out of order)', () => {
    const t = new SettlementTracker();
    for (let i = 1; i <= 6; i++) t.register(i, i * 10);
    t.settle(3);
    t.settle(2);
    expect(t.settledThrough).toBe(0);
    t.settle(1);
    expect(t.settledThrough).toBe(3);
    expect(t.watermarkLine).toBe(30);
    t.settle(6);
    expect(t.settledThrough).toBe(3);
    expect(t.unsettled).toBe(2);
    t.settle(4);
    t.settle(5);
    expect(t.settledThrough).toBe(6);
    expect(t.watermarkLine).toBe(60);
    expect(t.unsettled).toBe(0);
  });

  it('starts from a resumed watermark', () => {
    const t = new SettlementTracker(100, 120);
    expect(t.watermarkLine).toBe(120);
    t.register(101, 121);
    t.settle(101);
    expect(t.settledThrough).toBe(101);
  });
});
