import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';

// Records whose shape is unusual but whose data is real: keys named like Object.prototype
// properties, empty documents, odd delimiters, repeated keys, very long file names. Each is
// stored as it is or fails alone, in the failures file, naming why.

describe('ingest: records of unusual shape', () => {
  const t = emulatorSandbox();
  const dir = t.dir;
  const run = (args: string[]) => runInProcess(args, { env: t.env, cwd: dir });
  const batches = () => t.emu.stats().requests_by_endpoint.batch ?? 0;
  const failuresOf = (name: string) =>
    readFileSync(join(dir, `${name}.failures.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { record: unknown; line: number });

  it('keys named constructor, valueOf, __proto__, toString are stored in metadata as they are', async () => {
    writeFileSync(
      join(dir, 'inherited.jsonl'),
      '{"document":"order note","constructor":"Alice","valueOf":"ticket-1"}\n' +
        '{"document":"order note","constructor":"Bob","valueOf":"ticket-2"}\n' +
        '{"document":"proto note","__proto__":{"a":1},"metadata":{"toString":"t"}}\n',
    );
    writeFileSync(join(dir, 'inherited.csv'), 'document,__proto__,toString\ncsv note,p1,t1\n');
    const r = await run(['--json', 'ingest', 'inherited.jsonl', 'inherited.csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 4, skipped: 0, failed: 0 });
    const stored = t.emu.documents();
    const orders = stored.filter((d) => d.document === 'order note');
    expect(orders.map((d) => JSON.stringify(d.metadata)).sort()).toEqual([
      '{"constructor":"Alice","valueOf":"ticket-1"}',
      '{"constructor":"Bob","valueOf":"ticket-2"}',
    ]);
    const proto = stored.find((d) => d.document === 'proto note')!;
    expect(JSON.stringify(proto.metadata)).toBe('{"toString":"t","__proto__":{"a":1}}');
    const csv = stored.find((d) => d.document === 'csv note')!;
    expect(JSON.stringify(csv.metadata)).toBe('{"__proto__":"p1","toString":"t1"}');
  });

  it('an empty document in a one-record file fails that record (exit 3), not the run (exit 2)', async () => {
    writeFileSync(join(dir, 'empty-doc.jsonl'), '{"document":"","document_id":"e1","x":1}\n');
    const before = batches();
    const r = await run(['ingest', 'empty-doc.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).not.toContain('--map');
    expect(batches()).toBe(before);
    expect(failuresOf('empty-doc.jsonl')).toMatchObject([
      { line: 1, error: { code: 'INVALID_INPUT', message: 'document is empty' } },
    ]);
    // The same through --map and CSV: the message names the empty source column.
    writeFileSync(join(dir, 'empty-body.csv'), 'body,who\n,u1\nreal text,u2\n');
    const c = await run([
      'ingest',
      'empty-body.csv',
      '--map',
      'document=body',
      '--map',
      'customer_id=who',
    ]);
    expect(c.code, c.stderr).toBe(3);
    expect(c.stderr).toContain('document is empty: the column "body" (--map document) is empty');
    expect(t.emu.documents().find((d) => d.document === 'real text')?.customer_id).toBe('u2');
  });

  it('a ;-delimited .csv is read as its columns', async () => {
    writeFileSync(join(dir, 'semi.csv'), 'document;customer_id;note\n"hello; there";c-semi;a,b\n');
    const r = await run(['ingest', 'semi.csv']);
    expect(r.code, r.stderr).toBe(0);
    const d = t.emu.documents().find((x) => x.customer_id === 'c-semi');
    expect(d).toMatchObject({ document: 'hello; there', metadata: { note: 'a,b' } });
  });

  it('a .csv whose delimiter is none of , ; tab | : exit 2 saying the header has one column, not a --map of the whole header', async () => {
    writeFileSync(join(dir, 'caret.csv'), 'text^user_id\nhello^u1\nbye^u2\n');
    const before = batches();
    const r = await run(['ingest', 'caret.csv']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('the header of caret.csv has one column ("text^user_id")');
    expect(r.stderr).toMatch(/separated by a character other than a comma, ";", a tab or "\|"/);
    expect(r.stderr).not.toContain('--map document=text^user_id');
    expect(batches()).toBe(before);
    // A file of one column, named plainly, still gets the --map hint.
    writeFileSync(join(dir, 'one-column.csv'), 'text\nhello\n');
    const one = await run(['ingest', 'one-column.csv']);
    expect(one.code, one.stderr).toBe(2);
    expect(one.stderr).toContain('--map document=text');
    expect(one.stderr).not.toContain('one column');
  });

  it('a --map source field that no record has stops the run before anything is sent (exit 2)', async () => {
    writeFileSync(join(dir, 'orgs.csv'), 'document,org\nfirst,acme\nsecond,globex\n');
    const before = batches();
    const r = await run(['ingest', 'orgs.csv', '--map', 'customer_id=organisation']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      '--map customer_id=organisation: the first 2 records of orgs.csv have no "organisation" (fields found: document, org)',
    );
    expect(batches()).toBe(before);
  });

  it('an input whose name is near the file-name limit is ingested and resumed (its files get a shortened name)', async () => {
    const name = `${'é'.repeat(60)}${'n'.repeat(245 - 120 - 6)}.jsonl`;
    expect(Buffer.byteLength(name)).toBe(245);
    const lines = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ document: `long name ${i}`, document_id: `ln-${i}` }),
    );
    writeFileSync(join(dir, name), `${lines.join('\n')}\n{"document":""}\n`);
    const r = await run(['--json', 'ingest', name, '--max-errors', '1', '--batch-size', '5']);
    expect([3, 5], r.stderr).toContain(r.code);
    const files = readdirSync(dir).filter((f) => f.startsWith('é'.repeat(60)) && f !== name);
    expect(files.length, files.join('\n')).toBeGreaterThan(0);
    for (const f of files) expect(Buffer.byteLength(f)).toBeLessThanOrEqual(255);
    const again = await run(['ingest', name]);
    expect(again.code, again.stderr).toBe(3);
    expect(t.emu.documents().filter((d) => d.document_id.startsWith('ln-'))).toHaveLength(30);
  });

  it('a record over the size limit fails alone as TOO_LARGE; the records around it are stored', async () => {
    const big = 'x'.repeat(25 * 1024 * 1024);
    writeFileSync(
      join(dir, 'giant.jsonl'),
      `{"document":"before giant","document_id":"g1"}\n{"document":"${big}"}\n{"document":"after giant","document_id":"g3"}\n`,
    );
    const r = await run(['ingest', 'giant.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('giant.jsonl:2 TOO_LARGE');
    expect(
      t.emu.documents().filter((d) => d.document_id === 'g1' || d.document_id === 'g3'),
    ).toHaveLength(2);
    const [f] = failuresOf('giant.jsonl');
    expect(f).toMatchObject({ line: 2, error: { code: 'TOO_LARGE' } });
    expect(JSON.stringify(f).length).toBeLessThan(3000);
    // A broken element of a .json array fails alone; the elements after it are stored.
    writeFileSync(
      join(dir, 'broken.json'),
      '[{"document":"b1","document_id":"b1"},{"document":"say "hi now","document_id":"b2"},{"document":"b3","document_id":"b3"}]',
    );
    const b = await run(['ingest', 'broken.json']);
    expect(b.code, b.stderr).toBe(3);
    expect(t.emu.documents().filter((d) => /^b[13]$/.test(d.document_id))).toHaveLength(2);
    expect(failuresOf('broken.json')).toMatchObject([
      { line: 1, record: '{"document":"say "hi now","document_id":"b2"}' },
    ]);
  });
});
