import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qualitySandbox } from '../helpers/fixtures/ingest-quality.js';
import { runInProcess } from '../helpers/in-process.js';

// See before you spend: --show N prints the first N documents whole, for every format; the
// quality checks warn before sending (and in --json), and --strict refuses to send.

describe('--show and the quality checks', () => {
  const { dir, run, stored } = qualitySandbox(runInProcess);

  it('warns before sending about unlabelled chats and missing dates, with an example and the field to map', async () => {
    const r = await run(['ingest', 'notes.jsonl']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: notes.jsonl: 2 of the first 3 records are ai-chat-conversation documents with no speaker label at the start of a line (e.g. line 1: "Paid the invoice for March")',
    );
    expect(r.stderr).toContain(
      'warning: notes.jsonl: 3 of the first 3 records have no document_created_at (they would be dated when they arrive) (e.g. line 1: "Paid the invoice for March"). Add --map document_created_at=when',
    );
    expect(r.stderr.indexOf('warning: notes.jsonl')).toBeLessThan(
      r.stderr.indexOf('ingesting notes.jsonl'),
    );
    const j = await run(['--json', 'ingest', 'notes.jsonl', '--dry-run']);
    expect(JSON.parse(j.stdout).result.quality_warnings).toEqual([
      expect.objectContaining({
        code: 'NO_SPEAKER_LABELS',
        count: 2,
        checked: 3,
        example: { line: 1, text: 'Paid the invoice for March' },
      }),
      expect.objectContaining({ code: 'NO_CREATED_AT', count: 3, checked: 3 }),
    ]);
    // Mapped and typed, the same file is clean.
    const clean = await run([
      '--json',
      'ingest',
      'notes.jsonl',
      '--dry-run',
      '--map',
      'document_created_at=when',
      '--document-type',
      'document',
    ]);
    expect(JSON.parse(clean.stdout).result.quality_warnings).toBeUndefined();
  });

  it('--strict makes them errors: exit 2, nothing sent', async () => {
    writeFileSync(
      join(dir, 'strict.jsonl'),
      `${JSON.stringify({ document: 'no speakers here', document_id: 'strict-1' })}\n`,
    );
    const r = await run(['ingest', 'strict.jsonl', '--strict']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /strict\.jsonl: 1 of the first 1 records are ai-chat-conversation documents with no speaker label.*--strict sends nothing/,
    );
    expect(stored('strict-')).toBe(0);
    const ok = await run(['ingest', 'chats.jsonl', '--strict']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(stored('show-')).toBe(4);
  });
});
