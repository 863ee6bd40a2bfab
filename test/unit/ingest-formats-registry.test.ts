import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { estimateDocuments } from '../../src/ingest/credit-check.js';
import {
  FORMATS,
  INPUT_FORMATS,
  findFormat,
  formatFromName,
  parseFormat,
  sniffFormat,
  type FormatSpec,
} from '../../src/ingest/formats/index.js';
import { createMapper } from '../../src/ingest/mapper.js';
import { recordsOf } from '../helpers/reader-files.js';

const dir = mkdtempSync(join(tmpdir(), 'synap-formats-'));

describe('the format registry', () => {
  it('names every format once, and every extension claims its own format (gzip looked through)', () => {
    expect(new Set(INPUT_FORMATS).size).toBe(INPUT_FORMATS.length);
    for (const f of FORMATS as readonly FormatSpec[]) {
      // A format that refines another is told by content: its name says the other.
      const byName = f.refines ?? f.name;
      for (const ext of f.extensions) {
        expect(formatFromName(`data${ext}`)).toBe(byName);
        expect(formatFromName(`DATA${ext.toUpperCase()}.gz`)).toBe(byName);
      }
      expect(parseFormat(f.name.toUpperCase())).toBe(f.name);
      for (const a of f.aliases ?? []) expect(parseFormat(a)).toBe(f.name);
    }
    expect(formatFromName('notes.rtf')).toBeUndefined();
    // Apple Mail exports a mailbox as a folder `Inbox.mbox/` holding a file named `mbox`.
    expect(formatFromName('Inbox.mbox/mbox')).toBe('mbox');
    expect(formatFromName('mbox')).toBe('mbox');
    expect(formatFromName('Inbox.mbox/table_of_contents')).toBeUndefined();
    expect(formatFromName('notmbox')).toBeUndefined();
    expect(() => parseFormat('xml')).toThrow(`use one of ${INPUT_FORMATS.join(', ')}`);
  });

  it('sniffs stdin as before: an object is JSON Lines, an array JSON, anything else CSV', () => {
    expect(sniffFormat(Buffer.from('\ufeff \n{"document":"a"}'))).toBe('jsonl');
    expect(sniffFormat(Buffer.from('  [{"document":"a"}]'))).toBe('json');
    expect(sniffFormat(Buffer.from('document,user_id\n'))).toBe('csv');
  });

  it('every format reads its own kind of file through the one dispatch', async () => {
    const files: Record<string, string> = {
      jsonl: '{"document":"a"}\n{"document":"b"}\n',
      csv: 'document,x\na,1\nb,2\n',
      tsv: 'document\tx\na\t1\nb\t2\n',
      json: '[{"document":"a"},{"document":"b"}]',
      mbox: 'From a\nSubject: s\n\na\n\nFrom b\nSubject: s\n\nb\n',
      eml: 'Subject: s\n\na\n',
      vtt: 'WEBVTT\n\n00:00.000 --> 00:01.000\na\n\n00:01.000 --> 00:02.000\nb\n',
      srt: '1\n00:00:00,000 --> 00:00:01,000\nA: a\n\n2\n00:00:01,000 --> 00:00:02,000\nB: b\n',
      notes: '---\ntitle: t\n---\na b\n',
      // A channels.json not named so: the export's other files are what its reader reads
      // (test/cmd/ingest-sources.test.ts reads whole exports through this dispatch).
      slack: '[{"id": "C1", "name": "general", "is_general": true}]',
      chatgpt: JSON.stringify(
        ['a', 'b'].map((t) => ({
          id: t,
          mapping: {
            r: {
              message: { author: { role: 'user' }, content: { content_type: 'text', parts: [t] } },
            },
          },
        })),
      ),
      claude: JSON.stringify(
        ['a', 'b'].map((t) => ({ uuid: t, chat_messages: [{ sender: 'human', text: t }] })),
      ),
    };
    // Sources make documents of their own shape from the same letters.
    const docsOf: Record<string, string[]> = {
      mbox: ['Subject: s\n\na', 'Subject: s\n\nb'],
      eml: ['Subject: s\n\na'],
      vtt: ['a b'],
      srt: ['A: a\nB: b'],
      notes: ['a b'],
      slack: [],
    };
    for (const f of FORMATS) {
      const path = join(dir, `read${f.extensions[0]}`);
      expect(files[f.name], `a sample of ${f.name} in this test`).toBeDefined();
      writeFileSync(path, files[f.name]!);
      const docs: unknown[] = [];
      for await (const r of recordsOf(path)) {
        expect(r.format).toBe(f.name);
        docs.push((r.value as { document: string }).document.replace('User: ', ''));
      }
      expect(docs, f.name).toEqual(docsOf[f.name] ?? ['a', 'b']);
    }
  });

  it('a failures-file line is read back by its format entry; an unknown format as JSON', () => {
    const map = createMapper();
    const line = (record: unknown, extra: object) => ({
      source: 'in',
      line: 3,
      value: { source: 'x', line: 2, record, error: { code: 'E' }, ...extra },
    });
    const csv = map(line('a,b', { format: 'csv', header: ['document', 'user_id'] }));
    expect(csv.ok && csv.request).toMatchObject({ document: 'a', user_id: 'b' });
    const tsv = map(line('a\tb', { format: 'tsv', header: ['document', 'user_id'] }));
    expect(tsv.ok && tsv.request).toMatchObject({ document: 'a', user_id: 'b' });
    const json = map(line('{"document":"c"}', { format: 'json' }));
    expect(json.ok && json.request.document).toBe('c');
    const other = map(line('{"document":"d"}', { format: 'not-a-format' }));
    expect(other.ok && other.request.document).toBe('d');
    expect(findFormat('ndjson')?.name).toBe('jsonl');
  });

  it('nothing outside the registry and the readers lists formats by name', () => {
    // Adding a format is a reader and a registry entry: a switch over format names or a set of
    // them anywhere else (the estimate's counters, what the ledger lets grow) would silently
    // leave a new format out. src/output/ names the listing formats of `memories list`.
    const src = resolve(import.meta.dirname, '../../src');
    const own = /^(ingest\/formats|ingest\/readers|ingest\/sources|output)\//;
    const name = `'(?:${INPUT_FORMATS.join('|')})'`;
    const listing = new RegExp(`case ${name}:|\\[\\s*${name}\\s*,\\s*${name}`);
    const found: string[] = [];
    for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
      const path = file.split('\\').join('/');
      if (!path.endsWith('.ts') || own.test(path)) continue;
      readFileSync(join(src, path), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (listing.test(line)) found.push(`src/${path}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found).toEqual([]);
  });

  it("the credit estimate takes the format's own estimate and header lines", async () => {
    // A .tab file is tab-separated: its header row is not a document.
    const tab = join(dir, 'rows.tab');
    writeFileSync(tab, 'document\tx\na\t1\nb\t2\n');
    expect(await estimateDocuments([tab], { restart: false })).toEqual({
      documents: 2,
      partial: false,
      exact: true,
    });
    // The format given, not the file's name, picks the counter: a JSON array counts elements.
    const txt = join(dir, 'array.txt');
    writeFileSync(txt, '[\n{"document":"a"},\n{"document":"b"}\n]\n');
    expect(await estimateDocuments([txt], { restart: false, format: 'json' })).toEqual({
      documents: 2,
      partial: false,
      exact: true,
    });
    expect(await estimateDocuments([txt], { restart: false, format: 'jsonl' })).toEqual({
      documents: 4,
      partial: false,
      exact: true,
    });
  });
});
