import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  firstInvalidUtf8,
  frontMatterDate,
  looksBinary,
  readNote,
  looksLikeJsonRecords,
  noteRecord,
  splitFrontMatter,
  tagList,
} from '../../src/ingest/sources/notes.js';
import { NOTES } from '../../src/ingest/sources/formats.js';

const VAULT = join(import.meta.dirname, '..', 'fixtures', 'sources', 'notes', 'vault');
const note = (rel: string) => readFileSync(join(VAULT, rel), 'utf8');
const MTIME = new Date('2025-06-01T12:00:00.000Z');

describe('notes', () => {
  it('front matter as a list of tags, a date, and other keys kept under front_matter', () => {
    expect(noteRecord('projects/launch.md', note('projects/launch.md'), MTIME)).toEqual({
      value: {
        document:
          '# Launch plan\n\n- Ship the beta on **March 15**.\n- Marketing starts a week later.',
        document_type: 'document',
        document_id: 'file:projects/launch.md',
        document_created_at: '2024-03-01T00:00:00.000Z',
        metadata: {
          source: 'notes',
          path: 'projects/launch.md',
          title: 'Launch plan',
          tags: ['launch', 'q2'],
          front_matter: { aliases: ['Go-live'], owner: 'Alice Smith' },
        },
      },
    });
  });

  it('CRLF front matter with `created` (no zone: UTC) and tags as one "#a #b" string', () => {
    const rel = 'projects/2024/retro.markdown';
    expect(noteRecord(rel, note(rel), MTIME)).toEqual({
      value: {
        document: 'Retro notes: the deploy pipeline was slow; we will cache the builds.',
        document_type: 'document',
        document_id: `file:${rel}`,
        document_created_at: '2024-01-20T16:30:00.000Z',
        metadata: { source: 'notes', path: rel, title: 'retro', tags: ['retro', 'team'] },
      },
    });
  });

  it('no front matter: the whole text, titled by its file name, dated by its modification time', () => {
    expect(noteRecord('Welcome.md', note('Welcome.md'), MTIME)).toEqual({
      value: {
        document: "# Welcome\n\nThis vault holds the team's notes. Start with [[projects/launch]].",
        document_type: 'document',
        document_id: 'file:Welcome.md',
        document_created_at: '2025-06-01T12:00:00.000Z',
        metadata: { source: 'notes', path: 'Welcome.md', title: 'Welcome' },
      },
    });
    // A lone --- at the top is a rule, not unclosed front matter.
    const rule = noteRecord('rule.md', note('rule.md'), MTIME);
    expect(rule).toMatchObject({ value: { document: note('rule.md').trim() } });
  });

  it('front matter that is not YAML fails, naming its line; a note with front matter only is empty', () => {
    const r = noteRecord('broken.md', note('broken.md'), MTIME);
    expect(r).toMatchObject({ line: 4 });
    expect((r as { error: string }).error).toMatch(/^front matter is not valid YAML \(line 4\)/);
    expect(noteRecord('empty.md', note('empty.md'), MTIME)).toEqual({ empty: true });
  });

  it('front matter pieces', () => {
    expect(splitFrontMatter('\uFEFF---\na: 1\n...\nbody')).toEqual({
      yaml: 'a: 1\n',
      yamlLine: 2,
      body: 'body',
    });
    expect(frontMatterDate('2024-01-31T10:00:00+0200')).toBe('2024-01-31T08:00:00.000Z');
    expect(frontMatterDate('2024-01-31 10:00:00')).toBe('2024-01-31T10:00:00.000Z');
    expect(frontMatterDate('yesterday')).toBeUndefined();
    expect(frontMatterDate(20240131)).toBeUndefined();
    expect(tagList(['a', '#b', 3, { x: 1 }, 'a'])).toEqual(['a', 'b', '3']);
    expect(tagList('x, y z')).toEqual(['x', 'y', 'z']);
    expect(noteRecord('n.md', '---\ntitle: T\ndate: not a date\n---\nhi', MTIME)).toMatchObject({
      value: { document_created_at: MTIME.toISOString(), metadata: { title: 'T' } },
    });
  });

  it('a text whose first line is JSON is data, not a note', () => {
    expect(looksLikeJsonRecords('{"document":"a"}\n{"document":"b"}\n')).toBe(true);
    expect(looksLikeJsonRecords('[\n  {"document": "a"}\n]')).toBe(false);
    expect(looksLikeJsonRecords('[{"document": "a"},\n{"document": "b"}]')).toBe(true);
    expect(looksLikeJsonRecords('[[wiki link]] and text')).toBe(false);
    expect(looksLikeJsonRecords('{braces} in prose')).toBe(false);
  });

  it('binary files are told apart from text', () => {
    expect(looksBinary(readFileSync(join(VAULT, 'binary.txt')))).toBe(true);
    expect(looksBinary(readFileSync(join(VAULT, 'attachments/diagram.png')))).toBe(true);
    // Text that is not UTF-8 (a Windows-1252 note) is text, not binary; control bytes are not.
    expect(looksBinary(Buffer.from([0x63, 0x61, 0x66, 0xe9]))).toBe(false);
    expect(looksBinary(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x01, 0x02]))).toBe(true);
    expect(looksBinary(Buffer.from('café ✓ notes', 'utf8'))).toBe(false);
    // The 8 KB looked at may end inside a character: that is not binary.
    expect(looksBinary(Buffer.from(`${'a'.repeat(8191)}✓ and more`, 'utf8'))).toBe(false);
  });

  it('firstInvalidUtf8 agrees with a fatal UTF-8 decoder, and the bytes before it decode', () => {
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const ok = (b: Uint8Array) => {
      try {
        utf8.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 24 }),
      fc.string({ unit: 'grapheme', maxLength: 8 }).map((t) => new Uint8Array(Buffer.from(t))),
      fc
        .tuple(fc.string({ unit: 'grapheme', maxLength: 6 }), fc.uint8Array({ maxLength: 4 }))
        .map(([t, tail]) => new Uint8Array([...Buffer.from(t), ...tail])),
    );
    fc.assert(
      fc.property(bytes, (b) => {
        const at = firstInvalidUtf8(b);
        expect(at < 0).toBe(ok(b));
        if (at >= 0) expect(ok(b.subarray(0, at))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('a Windows-1252 note is read as such, with a warning naming the file, line and byte', async () => {
    // "Café notes – the résumé, “quoted”" saved by Notepad in the Windows code page.
    const bytes = Buffer.from([
      ...Buffer.from('Caf'),
      0xe9,
      ...Buffer.from(' notes\n'),
      0x96,
      ...Buffer.from(' the r'),
      0xe9,
      ...Buffer.from('sum'),
      0xe9,
      ...Buffer.from(', '),
      0x93,
      ...Buffer.from('quoted'),
      0x94,
      0x0a,
    ]);
    const warnings: { code: string; message: string }[] = [];
    const gen = await readNote(
      (async function* () {
        yield bytes;
      })(),
      {
        source: 'win/note.txt',
        name: 'note.txt',
        startAfterLine: 0,
        modifiedAt: MTIME,
        warn: (w) => warnings.push(w),
      },
    );
    const records = [];
    for await (const batch of gen) records.push(...batch);
    expect(records).toHaveLength(1);
    expect((records[0]!.value as { document: string }).document).toBe(
      'Café notes\n– the résumé, “quoted”',
    );
    expect(warnings).toEqual([
      {
        source: 'win/note.txt',
        code: 'NOT_UTF8',
        message:
          'win/note.txt: not UTF-8 (line 1, byte 4): read as Windows-1252; if it is in another encoding, convert it to UTF-8',
      },
    ]);
  });

  it("a note's failures line says which note to fix and that its folder is ingested again", () => {
    let said = '';
    NOTES.reread({
      text: '---\ntitle: [bad\n---\nBody\n',
      source: 'bad.md.failures.jsonl',
      origin: 'vault/journal/bad.md',
      line: 1,
      keep: (message) => {
        said = message;
        return { source: 'x', line: 1 };
      },
    });
    expect(said).toBe(
      'a note that could not be read is kept as text: fix vault/journal/bad.md and ingest the folder it was read from again (named alone, a note takes its file name as its id)',
    );
  });
});
