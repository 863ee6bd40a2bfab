import {
  copyFileSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordBatch } from '../../src/ingest/source-record.js';
import { readEml } from '../../src/ingest/sources/eml.js';
import { readMbox } from '../../src/ingest/sources/mbox.js';
import { noteRecord } from '../../src/ingest/sources/notes.js';
import { readSlackExport } from '../../src/ingest/sources/slack.js';
import { parseSrt } from '../../src/ingest/sources/srt.js';
import { transcriptRecord } from '../../src/ingest/sources/transcript.js';
import { parseWebVtt } from '../../src/ingest/sources/webvtt.js';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { zipOf, type ZipEntrySpec } from '../helpers/zip-writer.js';

// The sources that are not rows, ingested by the built binary into the emulator: every stored
// document is checked field by field against what its reader made (the readers' own tests pin
// those values), and a second run of the same input stores nothing new.

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sources');

async function values(gen: AsyncIterable<RecordBatch>): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for await (const b of gen)
    for (const r of b) if (r.value) out.push(r.value as Record<string, unknown>);
  return out;
}

describe('ingest sources end to end', () => {
  const t = emulatorSandbox();
  const dir = t.dir;
  const run = (args: string[]) => runInProcess(args, { env: t.env, cwd: dir, timeoutMs: 60_000 });
  const stored = (prefix: string) =>
    t.emu
      .documents()
      .filter((d) => d.document_id.startsWith(prefix))
      .sort((a, b) => a.document_id.localeCompare(b.document_id));

  /** A stored document as the reader's value says it must be, the run's defaults filled in. */
  const asStored = (v: Record<string, unknown>) => ({
    document_id: v.document_id,
    document: v.document,
    document_type: v.document_type,
    document_created_at: v.document_created_at ?? null,
    metadata: v.metadata,
    user_id: null,
    customer_id: null,
    mode: 'long-range',
    scope: null,
    times_received: 1,
  });

  it('mail: an mbox and an .eml become email documents; the unreadable message fails alone; a second run stores nothing new', async () => {
    for (const f of ['mailbox.mbox', 'offsite.eml'])
      copyFileSync(join(FIXTURES, 'mail', f), join(dir, f));
    const first = await run(['--json', 'ingest', 'mailbox.mbox', 'offsite.eml']);
    expect(first.code, first.stderr).toBe(3);
    expect(JSON.parse(first.stdout).result).toMatchObject({
      records_read: 7,
      accepted: 6,
      failed: 1,
    });
    expect(first.stderr).toContain(
      'mailbox.mbox:143 PARSE_ERROR: the message starting at line 143: not a mail message: it has no header fields',
    );

    const expected = [
      ...(await values(readMbox('mailbox.mbox', createReadStream(join(dir, 'mailbox.mbox'))))),
      ...(await values(readEml('offsite.eml', createReadStream(join(dir, 'offsite.eml'))))),
    ]
      .map(asStored)
      .sort((a, b) => String(a.document_id).localeCompare(String(b.document_id)));
    expect(expected.map((d) => d.document_id)).toEqual([
      'email:gruesse@example.de',
      'email:photos@example.com',
      'email:plan-1@example.com',
      'email:plan-2@example.org',
      'email:report@example.org',
      expect.stringMatching(/^email:sha256-[0-9a-f]{40}$/),
    ]);
    const docs = stored('email:');
    expect(docs).toHaveLength(6);
    docs.forEach((d, i) => {
      const { ingestion_id, ...fields } = d;
      expect(ingestion_id).toEqual(expect.any(String));
      expect(fields).toEqual(expected[i]);
    });

    // The failures line keeps the message's raw text and names where it starts.
    const failures = readFileSync(join(dir, 'mailbox.mbox.failures.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(failures).toHaveLength(1);
    expect(JSON.parse(failures[0]!)).toMatchObject({
      source: 'mailbox.mbox',
      line: 143,
      format: 'mbox',
      record: 'this line is not a header and this message has none\nit cannot be read as mail\n',
      error: { code: 'PARSE_ERROR' },
    });

    const second = await run(['--json', 'ingest', 'mailbox.mbox', 'offsite.eml']);
    expect(second.code, second.stderr).toBe(3);
    // The ledger knows every message as sent: none is sent again.
    expect(JSON.parse(second.stdout).result).toMatchObject({
      accepted: 0,
      skipped: 0,
      unchanged: 6,
      failed: 1,
      failed_in_source: 1,
    });
    expect(stored('email:')).toEqual(docs);
    expect(t.emu.documents()).toHaveLength(6);

    // The failures file cannot send a message that is not mail: the hint says to fix the mailbox.
    const third = await run(['ingest', 'mailbox.mbox', 'offsite.eml']);
    expect(third.code, third.stderr).toBe(3);
    expect(third.stderr).toContain(
      '1 record(s) failed; see mailbox.mbox.failures.jsonl. They could not be read from their source: fix them there (the failures file says where) and run the same command again (what is stored is not sent again).',
    );
    expect(third.stderr).not.toContain('Fix them and run');
  });

  it('mail: an Apple Mail export (a folder Inbox.mbox/ holding the file mbox) reads as its mailbox', async () => {
    mkdirSync(join(dir, 'Inbox.mbox'));
    copyFileSync(join(FIXTURES, 'mail', 'mailbox.mbox'), join(dir, 'Inbox.mbox', 'mbox'));
    writeFileSync(join(dir, 'Inbox.mbox', 'table_of_contents'), 'bplist00');
    const r = await run(['--json', 'ingest', 'Inbox.mbox', '--dry-run']);
    expect(r.code, r.stderr).toBe(3);
    const result = JSON.parse(r.stdout).result;
    expect(result).toMatchObject({ records_read: 6, failed: 1 });
    // The mailbox's messages (the test above sent them already: the ledger holds them).
    expect(result.sent + result.unchanged).toBe(5);
    expect(result.archives[0]).toMatchObject({
      used: [{ name: 'mbox', format: 'mbox' }],
      ignored: [{ name: 'table_of_contents' }],
    });
  });

  it('mail: a mailbox stopped part way resumes after the messages settled; none is sent twice', async () => {
    const message = (i: number) =>
      i === 4
        ? 'From x Mon Jan  1 00:00:00 2024\nnot a header line\n\n'
        : `From a@x Mon Jan  1 00:00:00 2024\nFrom: a@x\nSubject: m${i}\nMessage-ID: <resume-${i}@x>\n\n` +
          `body ${i}\n>From the log\n\n`;
    writeFileSync(join(dir, 'resume.mbox'), [1, 2, 3, 4, 5, 6, 7, 8].map(message).join(''));
    const args = ['--json', 'ingest', 'resume.mbox', '--batch-size', '1'];
    const first = await run([...args, '--max-errors', '1']);
    expect(first.code, first.stderr).toBe(5);
    expect(JSON.parse(first.stdout).result).toMatchObject({
      stop_reason: 'max-errors',
      accepted: 3,
      failed: 1,
    });
    expect(stored('email:resume-').map((d) => d.document_id)).toEqual([
      'email:resume-1@x',
      'email:resume-2@x',
      'email:resume-3@x',
    ]);
    const second = await run([...args, '--max-errors', '1']);
    expect(second.code, second.stderr).toBe(3);
    // The messages up to the failed one are passed over unread; the rest are sent once.
    expect(JSON.parse(second.stdout).result).toMatchObject({
      resumed_past: 4,
      records_read: 4,
      accepted: 7,
      failed: 1,
      earlier_runs: { accepted: 3, failed: 1 },
    });
    const docs = stored('email:resume-');
    expect(docs.map((d) => d.document_id)).toEqual(
      [1, 2, 3, 5, 6, 7, 8].map((i) => `email:resume-${i}@x`),
    );
    expect(docs.every((d) => d.times_received === 1)).toBe(true);
    expect(docs[4]!.document).toBe('From: a@x\nSubject: m6\n\nbody 6\nFrom the log');
  });

  it('transcripts: WebVTT (Teams, Zoom) and SRT become meeting-transcript documents at --created-at, else the file time with a warning', async () => {
    const names = ['teams-standup.vtt', 'zoom-retro.vtt', 'review.srt'];
    for (const f of names) copyFileSync(join(FIXTURES, 'transcripts', f), join(dir, f));
    const first = await run([
      'ingest',
      'teams-standup.vtt',
      'zoom-retro.vtt',
      '--created-at',
      '2024-05-01T09:30:00+02:00',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).not.toContain('modification time');
    // Without --created-at the file's modification time is taken, and the run says so.
    utimesSync(
      join(dir, 'review.srt'),
      new Date('2023-11-02T15:00:00Z'),
      new Date('2023-11-02T15:00:00Z'),
    );
    const srt = await run(['ingest', 'review.srt']);
    expect(srt.code, srt.stderr).toBe(0);
    expect(srt.stderr).toContain(
      "warning: review.srt: the meeting's start is taken from the file's modification time (2023-11-02T15:00:00.000Z)",
    );

    const text = (f: string) => readFileSync(join(dir, f), 'utf8');
    const expected = [
      transcriptRecord(parseWebVtt(text('teams-standup.vtt')), {
        source: 'vtt',
        file: 'teams-standup.vtt',
        createdAt: '2024-05-01T07:30:00.000Z',
      }),
      transcriptRecord(parseWebVtt(text('zoom-retro.vtt')), {
        source: 'vtt',
        file: 'zoom-retro.vtt',
        createdAt: '2024-05-01T07:30:00.000Z',
      }),
      transcriptRecord(parseSrt(text('review.srt')), {
        source: 'srt',
        file: 'review.srt',
        createdAt: '2023-11-02T15:00:00.000Z',
      }),
    ]
      .map((v) => asStored(v as unknown as Record<string, unknown>))
      .sort((a, b) => String(a.document_id).localeCompare(String(b.document_id)));
    const docs = stored('transcript:');
    expect(docs).toHaveLength(3);
    docs.forEach((d, i) => {
      const { ingestion_id: _, ...fields } = d;
      expect(fields).toEqual(expected[i]);
    });
    expect(docs.map((d) => d.metadata.speakers)).toContainEqual([
      'Alice Smith',
      'Bob Jones',
      'Carol Wu',
    ]);

    // Again, under another name and another time: the same meetings, nothing new stored.
    copyFileSync(join(dir, 'teams-standup.vtt'), join(dir, 'standup-copy.vtt'));
    const again = await run([
      '--json',
      'ingest',
      'standup-copy.vtt',
      'zoom-retro.vtt',
      'review.srt',
      '--created-at',
      '2025-01-01',
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ accepted: 0, skipped: 3 });
    expect(stored('transcript:')).toEqual(docs.map((d) => ({ ...d, times_received: 2 })));

    // A file that is not a transcript fails alone, its text kept.
    writeFileSync(join(dir, 'notes.vtt'), 'just notes, no cues\n');
    const bad = await run(['ingest', 'notes.vtt', '--created-at', '2024-01-01']);
    expect(bad.code, bad.stderr).toBe(3);
    expect(JSON.parse(readFileSync(join(dir, 'notes.vtt.failures.jsonl'), 'utf8'))).toMatchObject({
      line: 1,
      format: 'vtt',
      record: 'just notes, no cues\n',
      error: { message: 'not a WebVTT file: it does not start with "WEBVTT"' },
    });
  });

  it('notes: a folder of Markdown and text notes, nested and hidden folders and binaries; file:<path> ids; a second run stores nothing new', async () => {
    cpSync(join(FIXTURES, 'notes', 'vault'), join(dir, 'vault'), { recursive: true });
    const at = new Date('2022-02-02T08:00:00Z');
    for (const f of ['Welcome.md', 'journal/2024-01-05.txt', 'rule.md'])
      utimesSync(join(dir, 'vault', f), at, at);
    const first = await run(['ingest', 'vault']);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('warning: vault/binary.txt: skipped: a binary file, not a note');
    // Said once: a skipped file is not also "empty".
    expect(first.stderr).not.toContain('vault/binary.txt: 0 records');
    expect(first.stderr).toContain(
      'vault/broken.md:4 PARSE_ERROR: front matter is not valid YAML (line 4)',
    );
    // The binary note and the image are counted in the summary (hidden ones are not files read).
    expect(first.stderr).toMatch(/files skipped:\s+2 \(1 binary, 1 in no format synap reads\)\n/);

    const names = [
      'Welcome.md',
      'journal/2024-01-05.txt',
      'projects/2024/retro.markdown',
      'projects/launch.md',
      'rule.md',
    ];
    const expected = names
      .map((n) => {
        const path = join(dir, 'vault', n);
        const r = noteRecord(n, readFileSync(path, 'utf8'), statSync(path).mtime);
        if (!('value' in r)) throw new Error(`${n} is not a note record`);
        return asStored(r.value as unknown as Record<string, unknown>);
      })
      .sort((a, b) => String(a.document_id).localeCompare(String(b.document_id)));
    const docs = stored('file:');
    expect(docs.map((d) => d.document_id)).toEqual(
      names.map((n) => `file:${n}`).sort((a, b) => a.localeCompare(b)),
    );
    docs.forEach((d, i) => {
      const { ingestion_id: _, ...fields } = d;
      expect(fields).toEqual(expected[i]);
    });
    expect(docs.find((d) => d.document_id === 'file:Welcome.md')?.document_created_at).toBe(
      at.toISOString(),
    );
    // Hidden files and folders, the image and the note with front matter only sent nothing.
    expect(
      t.emu.documents().filter((d) => /hidden|workspace|PNG|Only metadata/.test(d.document)),
    ).toEqual([]);

    const second = await run(['--json', 'ingest', 'vault']);
    expect(second.code, second.stderr).toBe(3);
    expect(JSON.parse(second.stdout).result).toMatchObject({
      accepted: 0,
      skipped: 0,
      unchanged: 5,
      failed: 1,
      files_skipped: { binary: 1, no_format: 1 },
    });
    expect(stored('file:')).toEqual(docs);
  });

  it("notes: a Notion export's database tables (X.csv, X_all.csv beside the folder X/ of its row pages) are not read as records; the pages are", async () => {
    const root = join(dir, 'notion');
    mkdirSync(join(root, 'Tasks 5e6f'), { recursive: true });
    writeFileSync(join(root, 'Roadmap 3c4d.md'), '# Roadmap\n\nShip the beta.\n');
    writeFileSync(join(root, 'Tasks 5e6f.md'), '# Tasks\n');
    const table = 'Name,Status\nRotate keys,Done\n';
    writeFileSync(join(root, 'Tasks 5e6f.csv'), table);
    writeFileSync(join(root, 'Tasks 5e6f_all.csv'), table);
    writeFileSync(
      join(root, 'Tasks 5e6f', 'Rotate keys 7a8b.md'),
      '# Rotate keys\n\nStatus: Done\n',
    );
    // A table without a folder of pages is data, read as it always is.
    writeFileSync(join(root, 'contacts.csv'), 'document\nCall Ann\n');
    const r = await run(['--json', 'ingest', 'notion']);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout).result;
    expect(result).toMatchObject({ accepted: 4, failed: 0 });
    expect(result.archives[0].ignored).toEqual([
      {
        name: 'Tasks 5e6f.csv',
        why: 'a Notion database table: its rows are the pages in Tasks 5e6f/',
      },
      {
        name: 'Tasks 5e6f_all.csv',
        why: 'a Notion database table: its rows are the pages in Tasks 5e6f/',
      },
    ]);
    expect(
      t.emu
        .documents()
        .filter((d) => /Rotate keys|Roadmap|Call Ann|^# Tasks/.test(d.document))
        .map((d) => d.document_id)
        .sort(),
    ).toEqual([
      'file:Roadmap 3c4d.md',
      'file:Tasks 5e6f.md',
      'file:Tasks 5e6f/Rotate keys 7a8b.md',
      expect.stringMatching(/^sha256-/),
    ]);
  });

  it('Slack: an export folder becomes one document per channel per day; private ones only when asked; a second run stores nothing new', async () => {
    cpSync(join(FIXTURES, 'slack', 'export'), join(dir, 'slack'), { recursive: true });
    const first = await run(['ingest', 'slack']);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(
      /slack\/random\/2024-01-17\.json:4 PARSE_ERROR: not a day of Slack messages/,
    );

    const channels = join(dir, 'slack', 'channels.json');
    const expectedOf = async (includePrivate: boolean) => {
      const gen = await readSlackExport(createReadStream(channels), {
        source: channels,
        startAfterLine: 0,
        ...(includePrivate ? { includePrivate } : {}),
      });
      return (await values(gen))
        .map(asStored)
        .sort((a, b) => String(a.document_id).localeCompare(String(b.document_id)));
    };
    const expected = await expectedOf(false);
    expect(expected.map((d) => d.document_id)).toEqual([
      'slack:C01GENERAL:2024-01-15',
      'slack:C02RANDOM:2024-01-15',
    ]);
    const docs = stored('slack:');
    expect(docs).toHaveLength(2);
    docs.forEach((d, i) => {
      const { ingestion_id: _, ...fields } = d;
      expect(fields).toEqual(expected[i]);
    });
    // A folder given is never written into: its failures file is in the state directory.
    expect(existsSync(join(dir, 'slack', 'channels.json.failures.jsonl'))).toBe(false);
    const stateDir = join(dir, '.local', 'state', 'synap');
    const kept = readdirSync(stateDir).filter(
      (n) => n.startsWith('channels.json-') && n.endsWith('.failures.jsonl'),
    );
    expect(kept).toHaveLength(1);
    const failure = JSON.parse(readFileSync(join(stateDir, kept[0]!), 'utf8'));
    expect(failure).toMatchObject({
      line: 4,
      format: 'slack',
      record: expect.stringContaining('cut off'),
    });

    // Again (the export's channels.json named directly), with its private channels and DMs.
    const again = await run(['--json', 'ingest', 'slack/channels.json', '--include-private']);
    expect(again.code, again.stderr).toBe(3);
    expect(JSON.parse(again.stdout).result).toMatchObject({
      accepted: 3,
      skipped: 0,
      unchanged: 2,
      failed: 1,
    });
    const all = await expectedOf(true);
    expect(stored('slack:').map((d) => d.document_id)).toEqual(all.map((d) => d.document_id));
    stored('slack:').forEach((d, i) => {
      const { ingestion_id: _, times_received: __, ...fields } = d;
      const { times_received: ___, ...want } = all[i]!;
      expect(fields).toEqual(want);
    });
    expect(all.map((d) => d.document_id)).toEqual([
      'slack:C01GENERAL:2024-01-15',
      'slack:C02RANDOM:2024-01-15',
      'slack:C05MPDM:2024-01-16',
      'slack:D01AB:2024-01-15',
      'slack:G01LEAD:2024-01-15',
    ]);
    expect(t.emu.documents().filter((d) => d.document_id.startsWith('slack:'))).toHaveLength(5);

    // The export as Slack gives it, zipped: the same documents, nothing new stored.
    const entries: ZipEntrySpec[] = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(dir, 'slack', rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else if (!r.includes('synap') && !r.includes('failures'))
          entries.push({ name: r, data: readFileSync(join(dir, 'slack', r)) });
      }
    };
    walk('');
    writeFileSync(join(dir, 'slack-export.zip'), zipOf(entries));
    const zipped = await run(['--json', 'ingest', 'slack-export.zip', '--include-private']);
    expect(zipped.code, zipped.stderr).toBe(3);
    // Zipped, the same export's documents are the ones already sent: none is sent again.
    expect(JSON.parse(zipped.stdout).result).toMatchObject({
      accepted: 0,
      skipped: 0,
      unchanged: 5,
      failed: 1,
    });
    expect(t.emu.documents().filter((d) => d.document_id.startsWith('slack:'))).toHaveLength(5);
  });
});
