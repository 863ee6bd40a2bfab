import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';

const H1 = 'a'.repeat(40);
const H2 = '0123456789abcdef0123456789abcdef01234567';

describe('ledger lookups of many ids', () => {
  let dir: string;
  let ledger: Ledger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synap-ledger-'));
    ledger = Ledger.open(dir);
  });
  afterEach(() => {
    ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers in the order asked: hash, null for an unknown body, undefined when not held', () => {
    ledger.recordMany('inst', [
      { documentId: 'a', bodyHash: H1 },
      { documentId: 'b', bodyHash: null },
      { documentId: 'c', bodyHash: H2 },
    ]);
    ledger.recordMany('other', [{ documentId: 'x', bodyHash: H1 }]);
    expect(ledger.lookupInOrder('inst', ['c', 'x', 'b', 'a', 'a', 'missing', ''])).toEqual([
      H2,
      undefined,
      null,
      H1,
      H1,
      undefined,
      undefined,
    ]);
    expect(ledger.lookupInOrder('unknown-instance', ['a'])).toEqual([undefined]);
  });

  it('agrees with the lookup of each id for any ids, over more than one query', () => {
    const id = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 6 }), // lone surrogates, NUL, quotes
      fc.constantFrom('"', '\\', '\u0000', '\ud800', '[1]', 'doc-1'),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(id, fc.option(fc.constantFrom(H1, H2))), { maxLength: 30 }),
        fc.array(id, { maxLength: 30 }),
        (held, extra) => {
          ledger.forget('inst');
          ledger.recordMany(
            'inst',
            held.map(([documentId, bodyHash]) => ({ documentId, bodyHash })),
          );
          const ids = [...held.map(([i]) => i), ...extra];
          // Past one query's thousand ids, the answers still line up with the ids.
          const asked = [...new Array<string>(1100).fill('doc-1'), ...ids];
          const answers = ledger.lookupInOrder('inst', asked);
          expect(answers).toHaveLength(asked.length);
          asked.forEach((i, k) =>
            expect(answers[k], JSON.stringify(i)).toBe(ledger.lookup('inst', i)),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("an instance's lookups after a prefetch: answered in order, skipped ids, ids not prefetched", () => {
    ledger.recordMany('inst', [
      { documentId: 'a', bodyHash: H1 },
      { documentId: 'b', bodyHash: null },
      { documentId: 'late', bodyHash: H2 },
    ]);
    const view = ledger.instance('inst');
    view.prefetch(['a', 'skipped', 'b', 'n', 'a']);
    // Written after the prefetch: the prefetched answer stands for this run's records.
    ledger.recordMany('inst', [{ documentId: 'n', bodyHash: H2 }]);
    expect(view.lookup('a')).toBe(H1);
    expect(view.lookup('b')).toBe(null);
    expect(view.lookup('n')).toBe(undefined);
    expect(view.lookup('a')).toBe(H1);
    // Not in the prefetch (or asked out of its order): asked of the ledger.
    expect(view.lookup('late')).toBe(H2);
    expect(view.lookup('b')).toBe(null);
    expect(view.lookup('none')).toBe(undefined);
  });
});
