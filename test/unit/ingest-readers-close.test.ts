import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readRecordBatches } from '../../src/ingest/readers/index.js';
import { zipOf } from '../helpers/zip-writer.js';

// A consumer that stops reading early (a stop, a resume with nothing left) must close the
// input at once: a handle left to garbage collection is a warning today and an error later.
const dir = mkdtempSync(join(tmpdir(), 'synap-close-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const openFds = () => readdirSync('/proc/self/fd').length;
const lines = Array.from({ length: 5_000 }, (_, i) => JSON.stringify({ document: `d${i}` }));

describe.skipIf(!existsSync('/proc/self/fd'))('readers closed when left early', () => {
  for (const [name, content] of [
    ['plain.jsonl', lines.join('\n')],
    ['packed.jsonl.gz', gzipSync(lines.join('\n'))],
    ['table.csv', `document\n${lines.map((_, i) => `d${i}`).join('\n')}`],
    [
      'archive.zip',
      zipOf([
        { name: 'a.jsonl', data: lines.join('\n') },
        { name: 'b.jsonl', data: lines.join('\n') },
      ]),
    ],
  ] as const) {
    it(name, async () => {
      const path = join(dir, name);
      writeFileSync(path, content);
      const before = openFds();
      for (let i = 0; i < 20; i++) {
        for await (const batch of readRecordBatches(path, {})) {
          expect(batch.length).toBeGreaterThan(0);
          break;
        }
      }
      // 20 handles left open would show; the test runner's own sockets may move by one or two.
      expect(openFds()).toBeLessThanOrEqual(before + 3);
    });
  }
});
