import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import { readEml } from '../../src/ingest/sources/eml.js';
import { emailRecord, formatSize } from '../../src/ingest/sources/email-message.js';
import { fixWindows1252 } from '../../src/ingest/sources/windows-1252.js';
import { readMbox, splitMbox } from '../../src/ingest/sources/mbox.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'sources', 'mail');
const mailbox = readFileSync(join(FIXTURES, 'mailbox.mbox'));

async function* chunked(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  let i = 0;
  while (at < buf.length) {
    const n = Math.max(1, sizes[i++ % sizes.length] ?? 1);
    yield buf.subarray(at, at + n);
    at += n;
  }
}

async function records(gen: AsyncIterable<SourceRecord[]>): Promise<SourceRecord[]> {
  const out: SourceRecord[] = [];
  for await (const batch of gen) out.push(...batch);
  return out;
}

async function messages(buf: Buffer, sizes = [65536], max?: number) {
  const out: { line: number; text: string; truncated?: boolean }[] = [];
  for await (const m of splitMbox(chunked(buf, sizes), max)) {
    out.push({
      line: m.line,
      text: m.bytes.toString('latin1'),
      ...(m.truncated ? { truncated: true } : {}),
    });
  }
  return out;
}

describe('mbox splitting', () => {
  it('splits on From lines after a blank line, un-escapes >From, keeps unescaped body From lines', async () => {
    const box = Buffer.from(
      'From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\n>From escaped\n>>From twice\nFrom inside a paragraph\n\n' +
        'From b@x Mon Jan  1 00:00:00 2024\r\nSubject: two\r\n\r\nlast\r\n',
    );
    expect(await messages(box)).toEqual([
      {
        line: 1,
        text: 'Subject: one\n\nbody\nFrom escaped\n>From twice\nFrom inside a paragraph\n',
      },
      { line: 9, text: 'Subject: two\r\n\r\nlast\r\n' },
    ]);
  });

  it('a separator line right after a message without the blank line still starts the next message', async () => {
    // A writer that left out the blank line (or a message whose last line was cut) must not
    // fold the next message into its body; a body line that only starts with "From " stays.
    const box = Buffer.from(
      'From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom here on we meet weekly\n' +
        'From 1781234567890123456@xxx Wed Mar 04 10:00:00 +0000 2020\r\nSubject: two\r\n\r\nb\r\n' +
        'From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nSubject: three\n\nc\n',
    );
    expect(await messages(box)).toEqual([
      { line: 1, text: 'Subject: one\n\nbody\nFrom here on we meet weekly\n' },
      { line: 6, text: 'Subject: two\r\n\r\nb\r\n' },
      { line: 10, text: 'Subject: three\n\nc\n' },
    ]);
  });

  it('gives the same messages however the bytes are chunked', async () => {
    const whole = await messages(mailbox);
    expect(whole.map((m) => m.line)).toEqual([1, 31, 49, 63, 143, 147]);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
        async (sizes) => {
          expect(await messages(mailbox, sizes)).toEqual(whole);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('text before the first separator is a message of its own (so it fails visibly); leading blank lines are not', async () => {
    const box = Buffer.from('\n\nstray text\n\nFrom a@x\nSubject: s\n\nb\n');
    expect(await messages(box)).toEqual([
      { line: 1, text: 'stray text\n' },
      { line: 5, text: 'Subject: s\n\nb\n' },
    ]);
  });

  it('a message above the size cap is not held: it comes truncated and the next one is whole', async () => {
    const big = 'x'.repeat(100) + '\n';
    const box = Buffer.from(
      `From a\nSubject: big\n\n${big.repeat(50)}\nFrom b\nSubject: small\n\nok\n`,
    );
    const got = await messages(box, [64], 1000);
    expect(got).toHaveLength(2);
    expect(got[0]).toMatchObject({ line: 1, truncated: true });
    expect(got[0]!.text.length).toBeLessThanOrEqual(1000);
    expect(got[0]!.text.startsWith('Subject: big\n')).toBe(true);
    expect(got[1]).toEqual({ line: 55, text: 'Subject: small\n\nok\n' });
  });
});

describe('mail messages to email documents', () => {
  it('reads the fixture mailbox field by field; the message that is not mail fails alone with its raw text', async () => {
    const got = await records(readMbox('mailbox.mbox', chunked(mailbox, [777])));
    expect(got.map((r) => r.line)).toEqual([1, 31, 49, 63, 143, 147]);
    expect(got[0]!.value).toEqual({
      document:
        'From: Alice Example <alice@example.com>\n' +
        'To: Bob Builder <bob@example.org>, carol@example.net\n' +
        'Cc: "Dave, the Reviewer" <dave@example.org>\n' +
        'Subject: Quarterly plan\n' +
        'Date: Mon, 2 Mar 2020 10:15:00 +0100\n\n' +
        'Hi Bob,\n\nThe plan for Q2 is attached below – budget is €40k.\n' +
        'From now on we meet on Mondays.\n>From the archive: nothing changes.\n\nAlice',
      document_type: 'email',
      document_id: 'email:plan-1@example.com',
      document_created_at: '2020-03-02T09:15:00.000Z',
      metadata: {
        source: 'mbox',
        subject: 'Quarterly plan',
        from: 'Alice Example <alice@example.com>',
        to: 'Bob Builder <bob@example.org>, carol@example.net',
        cc: '"Dave, the Reviewer" <dave@example.org>',
        message_id: 'plan-1@example.com',
      },
    });
    // HTML only, windows-1252 quoted-printable: no tags, no style/script/title, entities and
    // the 0x80-0x9F characters decoded, the link's target kept, the tracking image dropped.
    expect(got[1]!.value).toEqual({
      document:
        'From: Bob Builder <bob@example.org>\nTo: Alice Example <alice@example.com>\n' +
        'Subject: Re: Quarterly plan\nDate: Mon, 2 Mar 2020 11:00:00 +0100\n\n' +
        'Sounds good\n\nThat’s fine & the € budget works – let’s go.\n\n * Monday\n * Thursday\n\n' +
        'See the plan [https://example.org/plan].',
      document_type: 'email',
      document_id: 'email:plan-2@example.org',
      document_created_at: '2020-03-02T10:00:00.000Z',
      metadata: {
        source: 'mbox',
        subject: 'Re: Quarterly plan',
        from: 'Bob Builder <bob@example.org>',
        to: 'Alice Example <alice@example.com>',
        message_id: 'plan-2@example.org',
        in_reply_to: 'plan-1@example.com',
        thread_id: 'plan-1@example.com',
      },
    });
    // ISO-8859-1 base64 body, encoded words in two charsets in From and Subject.
    expect(got[2]!.value).toEqual({
      document:
        'From: Jürgen Müller <juergen@example.de>\nTo: alice@example.com\n' +
        'Subject: Grüße aus Köln\nDate: Tue, 3 Mar 2020 08:00:00 -0500\n\n' +
        'Grüße aus Köln!\nDas Treffen ist am Montag um 10 Uhr.',
      document_type: 'email',
      document_id: 'email:gruesse@example.de',
      document_created_at: '2020-03-03T13:00:00.000Z',
      metadata: {
        source: 'mbox',
        subject: 'Grüße aus Köln',
        from: 'Jürgen Müller <juergen@example.de>',
        to: 'alice@example.com',
        message_id: 'gruesse@example.de',
        in_reply_to: 'plan-2@example.org',
        thread_id: 'plan-1@example.com',
      },
    });
    // Attachments are named with their size (an RFC 2231 UTF-8 name), never inlined.
    const report = got[3]!.value as { document: string };
    expect(report.document).toBe(
      'From: dave@example.org\nTo: Alice Example <alice@example.com>\nSubject: Report and notes\n' +
        'Date: Wed, 04 Mar 2020 12:30:00 +0000\n\n' +
        'The report is attached.\nFrom the desk of Dave: please read it before Friday.\n\n' +
        '[attachment: résumé Q1.pdf, 3 KB]\n[attachment: numbers.csv, 7 bytes]',
    );
    expect(got[4]).toEqual({
      source: 'mailbox.mbox',
      line: 143,
      format: 'mbox',
      parseError: {
        code: 'PARSE_ERROR',
        message: 'the message starting at line 143: not a mail message: it has no header fields',
        raw: 'this line is not a header and this message has none\nit cannot be read as mail\n',
      },
    });
    // No Message-ID: the id is a hash of the message, the same on every read.
    const noId = got[5]!.value as { document_id: string; document: string };
    expect(noId.document_id).toMatch(/^email:sha256-[0-9a-f]{40}$/);
    expect(noId.document).toContain(
      '\n\nA message without a Message-ID.\nFrom here the id is a hash.',
    );
    const again = await records(readMbox('mailbox.mbox', chunked(mailbox, [13])));
    expect((again[5]!.value as { document_id: string }).document_id).toBe(noId.document_id);
  });

  it('a resume does not parse or yield messages that start on or before the watermark', async () => {
    const got = await records(readMbox('m', chunked(mailbox, [4096]), { startAfterLine: 49 }));
    expect(got.map((r) => r.line)).toEqual([63, 143, 147]);
  });

  it('a message too large fails alone, its beginning kept; the rest of the mailbox goes on', async () => {
    const box = Buffer.from(
      `From a\nSubject: big\n\n${'y'.repeat(5000)}\n\nFrom b\nSubject: small\nMessage-ID: <s@x>\n\nok\n`,
    );
    const got = await records(readMbox('m', chunked(box, [512]), { maxMessageBytes: 1000 }));
    expect(got[0]!.parseError?.message).toMatch(/^the message starting at line 1 is larger than/);
    expect(got[0]!.parseError?.raw?.startsWith('Subject: big\n')).toBe(true);
    expect((got[1]!.value as { document_id: string }).document_id).toBe('email:s@x');
  });

  it('an .eml with CRLF lines, an HTML-only multipart/related body and an inline image', async () => {
    const eml = readFileSync(join(FIXTURES, 'offsite.eml'));
    const got = await records(readEml('offsite.eml', chunked(eml, [100])));
    expect(got).toEqual([
      {
        source: 'offsite.eml',
        line: 1,
        format: 'eml',
        value: {
          document:
            'From: Frank <frank@example.com>\nTo: Alice Example <alice@example.com>\n' +
            'Subject: Photos from the offsite\nDate: Sat, 7 Mar 2020 18:20:00 +0200\n\n' +
            'Here are the photos — the view was great.\n\nCafé at 5?\n\n[attachment: image/png, 2 KB]',
          document_type: 'email',
          document_id: 'email:photos@example.com',
          document_created_at: '2020-03-07T16:20:00.000Z',
          metadata: {
            source: 'eml',
            subject: 'Photos from the offsite',
            from: 'Frank <frank@example.com>',
            to: 'Alice Example <alice@example.com>',
            message_id: 'photos@example.com',
          },
        },
      },
    ]);
  });

  it('an .eml saved with a leading mbox From line reads the same', async () => {
    const raw = 'From: a@x\nSubject: s\nMessage-ID: <e@x>\n\nhello\n';
    const plain = await records(readEml('a.eml', chunked(Buffer.from(raw), [50])));
    const withFrom = await records(
      readEml('a.eml', chunked(Buffer.from(`From a@x Mon Jan  1 00:00:00 2024\n${raw}`), [7])),
    );
    expect(withFrom).toEqual(plain);
    expect((plain[0]!.value as { document: string }).document).toBe(
      'From: a@x\nSubject: s\n\nhello',
    );
  });

  it('a Date header that names no time leaves document_created_at out', async () => {
    const v = await emailRecord(Buffer.from('From: a@x\nDate: someday soon\n\nhi\n'), 'eml');
    expect(v).not.toHaveProperty('document_created_at');
    expect((v as { document: string }).document).toBe('From: a@x\nDate: someday soon\n\nhi');
  });

  it('windows-1252 bytes 0x80-0x9F become their characters (Node 20 TextDecoder leaves C1 controls)', () => {
    expect(fixWindows1252('\u0093q\u0094 \u0080 \u0096 \u009f \u0081')).toBe('“q” € – Ÿ \u0081');
    expect(fixWindows1252('plain ü')).toBe('plain ü');
  });

  it('sizes read as a person would', () => {
    expect([
      formatSize(7),
      formatSize(3000),
      formatSize(120 * 1024),
      formatSize(5 * 1024 * 1024 + 1),
    ]).toEqual(['7 bytes', '3 KB', '120 KB', '5.0 MB']);
  });

  it('a message without a Message-ID has the same id with CRLF or LF line ends', async () => {
    const lf =
      'From: a@example.com\nSubject: no id\nDate: Fri, 6 Mar 2020 16:45:00 +0000\n\nHello\nthere\n';
    const ids = await Promise.all(
      [lf, lf.replace(/\n/g, '\r\n')].map(async (text) => {
        const v = await emailRecord(Buffer.from(text), 'eml');
        return 'document_id' in v ? v.document_id : v;
      }),
    );
    expect(ids[0]).toMatch(/^email:sha256-/);
    expect(ids[1]).toBe(ids[0]);
  });
});
