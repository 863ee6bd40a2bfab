import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateDocuments } from '../../src/ingest/credit-check.js';
import { estimateInput } from '../../src/ingest/estimate.js';

const dir = mkdtempSync(join(tmpdir(), 'synap-estimate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A CSV of `n` rows whose transcript cells hold line breaks (and quotes, and commas). */
function multilineCsv(n: number): string {
  const rows = ['id,transcript,agent'];
  for (let i = 0; i < n; i++) {
    rows.push(
      `t-${i},"User: my order ${i}, it is late\nAgent: sorry about the ""delay""\nUser: ok",ann`,
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}

describe('estimates count records, not lines', () => {
  it('a 500-row CSV with multi-line cells is estimated at 500 documents, exactly', async () => {
    const path = file('tickets.csv', multilineCsv(500));
    expect(await estimateInput(path)).toEqual({ records: 501, exact: true });
    expect(await estimateDocuments([path], { restart: false })).toMatchObject({
      documents: 500,
      exact: true,
    });
  });

  it('a JSON array counts its elements (nested arrays, strings with brackets and commas)', async () => {
    const docs = Array.from({ length: 40 }, (_, i) => ({
      document: `User: [${i}], {a, b} "quoted"\nAssistant: ok`,
      metadata: { tags: ['x', 'y'], nested: { n: [1, 2, [3]] } },
    }));
    const path = file('kb.json', JSON.stringify(docs, null, 2));
    expect(await estimateInput(path)).toEqual({ records: 40, exact: true });
    expect(await estimateInput(file('empty.json', '[]'))).toEqual({ records: 0, exact: true });
    expect(await estimateInput(file('one.json', '{"document":"x"}'))).toEqual({
      records: 1,
      exact: true,
    });
  });

  it('JSON Lines: one record a line; a last line without a newline counts', async () => {
    expect(await estimateInput(file('a.jsonl', '{"document":"a"}\n{"document":"b"}'))).toEqual({
      records: 2,
      exact: true,
    });
    expect(await estimateInput(file('b.jsonl', '{"document":"a"}\n\n{"document":"b"}\n'))).toEqual({
      records: 2,
      exact: true,
    });
  });

  it('a file larger than the sample is scaled, and says it is approximate', async () => {
    const path = file('big.csv', multilineCsv(6_000));
    const e = await estimateInput(path);
    expect(e?.exact).toBe(false);
    expect(e!.records).toBeGreaterThan(6_001 * 0.9);
    expect(e!.records).toBeLessThan(6_001 * 1.1);
  });
});
