import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { zipOf, type ZipEntrySpec } from '../helpers/zip-writer.js';

// The conversation exports people download from ChatGPT and Claude, bare and as the zip the
// app gives them (with its other files), ingested into the emulator and checked field by field.

const SAMPLES = resolve(import.meta.dirname, '../../samples');

/** The files of a sample export folder as zip entries, plus an image an export holds. */
function exportZip(folder: string): Buffer {
  const entries: ZipEntrySpec[] = readdirSync(join(SAMPLES, folder)).map((name) => ({
    name,
    data: readFileSync(join(SAMPLES, folder, name)),
  }));
  entries.push({ name: 'file-Abc123-robin.png', data: Buffer.alloc(2048, 7), store: true });
  entries.push({ name: 'dalle-generations/file-x.webp', data: Buffer.alloc(512, 3) });
  return zipOf(entries);
}

const CHATGPT_DOCS = [
  {
    document_id: 'chatgpt:6f1c2a9e-0001-4a7b-9a55-aaaaaaaaaaaa',
    document_type: 'ai-chat-conversation',
    document_created_at: '2023-11-14T22:13:20.123Z',
    metadata: { source: 'chatgpt', title: 'Robin ID 🐦', updated_at: '2023-11-14T22:14:06.500Z' },
    document: [
      'User: [image robin.jpg]',
      'What bird is this? 🐦',
      'Assistant: It looks like a European robin (Erithacus rubecula).',
      'User: Do robins in Portugal migrate?',
      'Assistant: Mostly not: Portuguese robins are largely resident,',
      'joined in winter by northern birds.',
      'User: Plot sightings per month',
      'Assistant: import matplotlib.pyplot as plt',
      'plt.bar(months, counts)',
      'Assistant: Here is the chart: sightings peak in December. ✅',
    ].join('\n'),
  },
  {
    document_id: 'chatgpt:7a2b3c4d-0002-4b8c-8d66-bbbbbbbbbbbb',
    document_type: 'ai-chat-conversation',
    document_created_at: '2024-03-09T16:00:00.000Z',
    metadata: { source: 'chatgpt', title: 'Sourdough', updated_at: '2024-03-09T16:00:05.000Z' },
    document:
      'User: Remind me what a sourdough starter needs\n[audio]\nAssistant: Flour, water, warmth and daily feeding.',
  },
  {
    document_id: 'chatgpt:9c4d5e6f-0004-4dae-8f88-dddddddddddd',
    document_type: 'ai-chat-conversation',
    document_created_at: '2024-10-27T03:33:20.750Z',
    metadata: { source: 'chatgpt', title: 'PDF summary' },
    document:
      'User: Summarise this PDF\n[file four-day-week.pdf]\nAssistant: It proposes a four-day week.',
  },
];

const CLAUDE_DOCS = [
  {
    document_id: 'claude:0a1b2c3d-1111-4e5f-8a9b-000000000001',
    document_type: 'ai-chat-conversation',
    document_created_at: '2024-06-01T12:00:00.123Z',
    metadata: { source: 'claude', name: 'Budget spreadsheet review 📊' },
    document: [
      'User: Can you check my budget?',
      '[attachment budget.csv]',
      'item,amount',
      'rent,900',
      'food,300',
      '[file receipt.jpg]',
      'Assistant: Rent is 75% of your spending; food looks fine. 👍',
      'Consider a 10% savings line.',
      'User: [attachment scan.pdf]',
      'Assistant: Noted the scan.',
    ].join('\n'),
  },
  {
    document_id: 'claude:0a1b2c3d-3333-4e5f-8a9b-000000000003',
    document_type: 'ai-chat-conversation',
    document_created_at: '2024-08-03T09:15:30.500Z',
    metadata: { source: 'claude', name: 'Haiku' },
    document:
      'User: Write a haiku about rain\nAssistant: Soft rain on the roof\nthe kettle hums its answer\nsteam writes on the glass\nUser: Lovely, thank you 🌧️',
  },
];

describe('conversation exports end to end', () => {
  const t = emulatorSandbox();
  const dir = t.dir;
  const run = (args: string[], e = t.env) =>
    runInProcess(args, { env: e, cwd: dir, timeoutMs: 60_000 });
  const stored = (prefix: string) =>
    t.emu
      .documents()
      .filter((d) => d.document_id.startsWith(prefix))
      .sort((a, b) => (a.document_id < b.document_id ? -1 : 1))
      .map((d) => ({
        document_id: d.document_id,
        document_type: d.document_type,
        document_created_at: d.document_created_at,
        metadata: d.metadata,
        document: d.document,
        user_id: d.user_id,
        customer_id: d.customer_id,
        mode: d.mode,
        scope: d.scope,
        times_received: d.times_received,
      }));
  /** What every stored conversation has besides its own fields: the default mode, no scope. */
  const defaults = { mode: 'long-range', scope: null };

  beforeAll(() => {
    writeFileSync(join(dir, 'chatgpt-export.zip'), exportZip('chatgpt-export'));
  });

  it('a bare ChatGPT conversations.json: one document per conversation, as the user saw it', async () => {
    const r = await run([
      '--json',
      'ingest',
      join(SAMPLES, 'chatgpt-export', 'conversations.json'),
      '--user-id',
      'u-1',
      '--customer-id',
      'c-1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({
      records_read: 3,
      accepted: 3,
      skipped_empty: 1,
      failed: 0,
    });
    expect(stored('chatgpt:')).toEqual(
      CHATGPT_DOCS.map((d) => ({
        ...d,
        ...defaults,
        user_id: 'u-1',
        customer_id: 'c-1',
        times_received: 1,
      })),
    );
    // Nothing hidden, no sibling branch, no tool output, no reasoning.
    const all = stored('chatgpt:')
      .map((d) => d.document)
      .join('\n');
    for (const gone of [
      'Some do.',
      'regenerated away',
      'Old answer',
      'plumage',
      'Thought for',
      'Lisbon',
      '<Figure>',
      'Error running',
      'You are ChatGPT',
      'hidden context',
      '[object Object]',
    ])
      expect(all).not.toContain(gone);
  });

  it('the export zip: conversations.json read, the rest of the export named and ignored; again: nothing new', async () => {
    const r = await run([
      'ingest',
      'chatgpt-export.zip',
      '--user-id',
      'u-1',
      '--customer-id',
      'c-1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('note: chatgpt-export.zip: reading conversations.json (chatgpt)');
    expect(r.stderr).toMatch(
      /message_feedback\.json, shared_conversations\.json, user\.json \(not part of the chatgpt export's conversations\)/,
    );
    expect(r.stderr).toMatch(
      /chat\.html, file-Abc123-robin\.png, dalle-generations\/file-x\.webp \(no input format claims its name\)/,
    );
    // The same documents as the bare file: already there, so not sent, and stored once.
    const again = await run([
      '--json',
      'ingest',
      'chatgpt-export.zip',
      '--user-id',
      'u-1',
      '--customer-id',
      'c-1',
    ]);
    // The ledger knows them as sent, with these bodies: none is sent again.
    expect(JSON.parse(again.stdout).result).toMatchObject({
      accepted: 0,
      skipped: 0,
      unchanged: 3,
      failed: 0,
    });
    expect(stored('chatgpt:').map((d) => d.times_received)).toEqual([1, 1, 1]);
    expect(stored('chatgpt:').map((d) => d.document)).toEqual(CHATGPT_DOCS.map((d) => d.document));
  });

  it('--format chatgpt forces it; --format json reads the conversations as plain records', async () => {
    writeFileSync(
      join(dir, 'history.txt'),
      readFileSync(join(SAMPLES, 'chatgpt-export', 'conversations.json')),
    );
    const forced = await run([
      '--json',
      'ingest',
      'history.txt',
      '--format',
      'chatgpt',
      '--dry-run',
    ]);
    expect(JSON.parse(forced.stdout).result).toMatchObject({ sent: 3, skipped_empty: 1 });
    // --map, --user-id and --customer-id apply to the documents the conversations became.
    const mapped = await run([
      '--json',
      'ingest',
      join(SAMPLES, 'chatgpt-export', 'conversations.json'),
      '--map',
      'document_created_at=metadata.updated_at',
      '--user-id',
      'u-m',
      '--customer-id',
      'c-m',
      '--show',
      '1',
    ]);
    expect(JSON.parse(mapped.stdout).result.samples[0]).toMatchObject({
      document_id: CHATGPT_DOCS[0]!.document_id,
      document_created_at: CHATGPT_DOCS[0]!.metadata.updated_at,
      user_id: 'u-m',
      customer_id: 'c-m',
    });
    const plain = await run([
      '--json',
      'ingest',
      join(SAMPLES, 'chatgpt-export', 'conversations.json'),
      '--format',
      'json',
      '--dry-run',
    ]);
    expect(plain.code).toBe(2);
  });

  it('a Claude export, bare then zipped: text blocks, attachments named, thinking and tools left out', async () => {
    const bare = await run([
      '--json',
      'ingest',
      join(SAMPLES, 'claude-export', 'conversations.json'),
    ]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(JSON.parse(bare.stdout).result).toMatchObject({
      accepted: 2,
      skipped_empty: 1,
      failed: 0,
    });
    expect(stored('claude:')).toEqual(
      CLAUDE_DOCS.map((d) => ({
        ...d,
        ...defaults,
        user_id: null,
        customer_id: null,
        times_received: 1,
      })),
    );
    const all = stored('claude:')
      .map((d) => d.document)
      .join('\n');
    for (const gone of [
      'old text field',
      'stale copy',
      'Rent is 75%...',
      '900/1200',
      '0.75',
      'Sam Example',
    ])
      expect(all).not.toContain(gone);
    writeFileSync(join(dir, 'claude-export.zip'), exportZip('claude-export'));
    const zipped = await run(['--json', 'ingest', 'claude-export.zip']);
    expect(zipped.code, zipped.stderr).toBe(0);
    expect(JSON.parse(zipped.stdout).result).toMatchObject({
      accepted: 0,
      skipped: 0,
      unchanged: 2,
      skipped_empty: 1,
    });
    expect(zipped.stderr).toMatch(
      /projects\.json, users\.json \(not part of the claude export's conversations\)/,
    );
  });

  it('a conversation from the export zip that fails: its failures line holds the document it became, retried without the zip', async () => {
    const conv = (id: string, said: string) => ({
      id,
      title: `About ${said}`,
      create_time: 1_700_000_000.5,
      mapping: {
        r: { parent: null, children: ['u'], message: null },
        u: {
          parent: 'r',
          children: ['a'],
          message: { author: { role: 'user' }, content: { content_type: 'text', parts: [said] } },
        },
        a: {
          parent: 'u',
          children: [],
          message: {
            author: { role: 'assistant' },
            content: { content_type: 'text', parts: [`Noted: ${said} ✅`] },
          },
        },
      },
      current_node: 'a',
    });
    // An id too long for the service: that conversation fails, the other is stored.
    const longId = `zipfail-${'x'.repeat(600)}`;
    writeFileSync(
      join(dir, 'export-fail.zip'),
      zipOf([
        {
          name: 'conversations.json',
          data: JSON.stringify([conv('zipfail-ok', 'tea'), conv(longId, 'coffee')]),
        },
        { name: 'user.json', data: '{"id":"user-1"}' },
      ]),
    );
    const ids = ['--user-id', 'u-9', '--customer-id', 'c-9'];
    const r = await run(['ingest', 'export-fail.zip', ...ids]);
    expect(r.code, r.stderr).toBe(3);
    rmSync(join(dir, 'export-fail.zip'));
    const lines = readFileSync(join(dir, 'export-fail.zip.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    const document = {
      document: 'User: coffee\nAssistant: Noted: coffee ✅',
      document_type: 'ai-chat-conversation',
      document_created_at: '2023-11-14T22:13:20.500Z',
      metadata: { source: 'chatgpt', title: 'About coffee' },
    };
    expect(lines[0]).toMatchObject({
      source: 'export-fail.zip:conversations.json',
      line: 1,
      record: { ...document, document_id: `chatgpt:${longId}` },
    });
    // Fixed in the failures file and ingested from it: the zip is gone, nothing else is needed.
    const fixed = { ...lines[0], record: { ...document, document_id: 'chatgpt:zipfail-fixed' } };
    writeFileSync(join(dir, 'export-fail.failures.jsonl'), `${JSON.stringify(fixed)}\n`);
    const again = await run(['ingest', 'export-fail.failures.jsonl', ...ids]);
    expect(again.code, again.stderr).toBe(0);
    expect(stored('chatgpt:zipfail-')).toEqual([
      {
        ...document,
        ...defaults,
        document_id: 'chatgpt:zipfail-fixed',
        user_id: 'u-9',
        customer_id: 'c-9',
        times_received: 1,
      },
      expect.objectContaining({ document_id: 'chatgpt:zipfail-ok', times_received: 1 }),
    ]);
  });

  it('an export zip stopped part way (its conversations all on one line, as ChatGPT writes them) resumes past what was settled', async () => {
    const conv = (i: number) => ({
      id: `oneline-${i}`,
      create_time: 1_700_000_000 + i,
      current_node: 'u',
      mapping: {
        u: {
          parent: null,
          children: [],
          message: {
            author: { role: 'user' },
            content: { content_type: 'text', parts: [`hi ${i}`] },
          },
        },
      },
    });
    const data = JSON.stringify(Array.from({ length: 300 }, (_, i) => conv(i)));
    expect(data).not.toContain('\n');
    writeFileSync(join(dir, 'one-line.zip'), zipOf([{ name: 'conversations.json', data }]));
    const slow = ['--max-duration', '4s', '--batch-size', '5', '--rate', '120'];
    const first = await run(['--json', 'ingest', 'one-line.zip', ...slow]);
    expect(first.code, first.stderr).toBe(5);
    const sent = JSON.parse(first.stdout).result.accepted as number;
    expect(sent).toBeGreaterThan(0);
    const second = await run(['--json', 'ingest', 'one-line.zip']);
    expect(second.code, second.stderr).toBe(0);
    // The resume starts after the conversations settled (in order), inside the one line.
    const resumed = JSON.parse(second.stdout).result.resumed_past as number;
    expect(resumed).toBeGreaterThan(0);
    expect(resumed).toBeLessThanOrEqual(sent);
    const docs = stored('chatgpt:oneline-');
    expect(docs).toHaveLength(300);
    expect(docs.filter((d) => d.times_received !== 1)).toEqual([]);
  }, 60_000);

  it('a conversation that does not parse fails alone; fixed in the failures file, it is converted and sent', async () => {
    const conv = (id: string, text: string) => ({
      id,
      create_time: 1_700_000_000,
      mapping: {
        r: { parent: null, children: ['u'], message: null },
        u: {
          parent: 'r',
          children: [],
          message: { author: { role: 'user' }, content: { content_type: 'text', parts: [text] } },
        },
      },
      current_node: 'u',
    });
    const good = JSON.stringify(conv('fixme-ok', 'fine'));
    // A trailing comma: not JSON, and the brackets still balance.
    const broken = JSON.stringify(conv('fixme-bad', 'broken')).replace(
      '"parts":["broken"]',
      '"parts":["broken",]',
    );
    writeFileSync(
      join(dir, 'conversations.json'),
      `[\n${good},\n${broken},\n${good.replace('fixme-ok', 'fixme-ok2')}\n]\n`,
    );
    const r = await run(['ingest', 'conversations.json']);
    expect(r.code, r.stderr).toBe(3);
    expect(stored('chatgpt:fixme-').map((d) => d.document_id)).toEqual([
      'chatgpt:fixme-ok',
      'chatgpt:fixme-ok2',
    ]);
    const line = JSON.parse(
      readFileSync(join(dir, 'conversations.json.failures.jsonl'), 'utf8').trim(),
    );
    expect(line).toMatchObject({ line: 3, format: 'chatgpt', record: broken });
    writeFileSync(
      join(dir, 'retry.failures.jsonl'),
      `${JSON.stringify({ ...line, record: broken.replace('"parts":["broken",]', '"parts":["broken"]') })}\n`,
    );
    const again = await run(['ingest', 'retry.failures.jsonl']);
    expect(again.code, again.stderr).toBe(0);
    expect(stored('chatgpt:fixme-bad')).toEqual([
      expect.objectContaining({
        document: 'User: broken',
        document_type: 'ai-chat-conversation',
        document_created_at: '2023-11-14T22:13:20.000Z',
      }),
    ]);
  });
});
