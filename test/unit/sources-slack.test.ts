import {
  cpSync,
  createReadStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FormatReadContext } from '../../src/ingest/formats/spec.js';
import { recordsOf } from '../helpers/reader-files.js';
import type { SourceRecord } from '../../src/ingest/source-record.js';
import {
  readSlackExport,
  slackDayRecord,
  slackText,
  speakerOf,
  userLabels,
} from '../../src/ingest/sources/slack.js';

import { zipOf, type ZipEntrySpec } from '../helpers/zip-writer.js';

const EXPORT = join(import.meta.dirname, '..', 'fixtures', 'sources', 'slack', 'export');
const CHANNELS = join(EXPORT, 'channels.json');

async function read(
  ctx: Partial<FormatReadContext> = {},
): Promise<{ records: SourceRecord[]; warnings: string[] }> {
  const warnings: string[] = [];
  const records: SourceRecord[] = [];
  const gen = await readSlackExport(createReadStream(ctx.source ?? CHANNELS), {
    source: CHANNELS,
    startAfterLine: 0,
    warn: (w) => warnings.push(w.code),
    ...ctx,
  });
  for await (const b of gen) records.push(...b);
  return { records, warnings };
}

describe('Slack export', () => {
  it('one document per channel per day: names, mentions, links, threads after their parent, bots labelled, housekeeping left out', async () => {
    const { records, warnings } = await read();
    expect(warnings).toEqual([]);
    expect(
      records.map((r) => [
        r.line,
        r.value ? (r.value as { document_id: string }).document_id : 'ERR',
      ]),
    ).toEqual([
      [1, 'slack:C01GENERAL:2024-01-15'],
      // line 2 is general's 2024-01-16: joins, leaves and pins only, so no document
      [3, 'slack:C02RANDOM:2024-01-15'],
      [4, 'ERR'],
    ]);
    expect(records[0]!.value).toEqual({
      document: [
        'Alice Smith: Morning @here! @Bobby, can you check #random and the plan (https://example.org/plan) & report back?',
        'Bobby: On it. Plan looks good <3',
        'Carol Wu: Also sent to the channel: ops@example.org has the logs',
        'Deploy Bot (bot): Deployed *v2.3.1* to production',
        // An app's message carries its bot user's id too: labelled by the bot's name, as a bot.
        'Deploy Bot (bot): Rollback window closes at 18:00',
        'Carol Wu: Notes from the offsite [file: offsite-notes.pdf]',
        // An integration's post with no text says what its attachment says.
        'Jira (bot): OPS-42 Rotate the deploy keys (To Do)',
      ].join('\n'),
      document_type: 'ai-chat-conversation',
      document_id: 'slack:C01GENERAL:2024-01-15',
      document_created_at: '2024-01-15T09:00:00.000Z',
      metadata: {
        source: 'slack',
        channel: 'general',
        channel_id: 'C01GENERAL',
        date: '2024-01-15',
      },
    });
    // A user missing from users.json is named by the message's own profile.
    expect((records[1]!.value as { document: string }).document).toBe(
      'Guest Writer: Hello from a guest account\nBobby: Welcome! See https://example.org',
    );
    expect(records[2]).toMatchObject({
      source: join(EXPORT, 'random', '2024-01-17.json'),
      line: 4,
      format: 'slack',
      parseError: {
        message: expect.stringMatching(/^not a day of Slack messages: /) as unknown as string,
        raw: '[\n    {"type": "message", "user": "U01ALICE", "text": "cut off',
      },
    });
  });

  it('--channels limits the channels; --include-private adds private channels and direct messages', async () => {
    const only = await read({ channels: ['random'] });
    expect(only.records.map((r) => r.line)).toEqual([1, 2]);
    expect(only.warnings).toEqual([]);
    // A channel the export does not have (here: private, so not read without the flag) is said.
    const missing = await read({ channels: ['leadership', 'C02RANDOM'] });
    expect(missing.records.map((r) => r.line)).toEqual([1, 2]);
    expect(missing.warnings).toEqual(['SLACK_NO_SUCH_CHANNEL']);
    const all = await read({ includePrivate: true });
    const ids = all.records
      .filter((r) => r.value)
      .map((r) => (r.value as { document_id: string }).document_id);
    expect(ids).toEqual([
      'slack:C01GENERAL:2024-01-15',
      'slack:C02RANDOM:2024-01-15',
      'slack:G01LEAD:2024-01-15',
      'slack:C05MPDM:2024-01-16',
      'slack:D01AB:2024-01-15',
    ]);
    expect(all.records.at(-1)!.value).toMatchObject({
      document: 'Bobby: Lunch?\nAlice Smith: Sure, 12:30',
      metadata: { channel: 'dm: Alice Smith, Bobby' },
    });
    // A group DM (mpims.json, its folder named after it) is named by its people; a reply to a
    // thread of another day stays in time order.
    expect(all.records.at(-2)!.value).toEqual({
      document: [
        'Alice Smith: No problem @Bobby, we start without you',
        'Bobby: is running late',
        "Carol Wu: Following up on yesterday's thread: done",
      ].join('\n'),
      document_type: 'ai-chat-conversation',
      document_id: 'slack:C05MPDM:2024-01-16',
      document_created_at: '2024-01-16T10:58:20.000Z',
      metadata: {
        source: 'slack',
        channel: 'group dm: Alice Smith, Bobby, Carol Wu',
        channel_id: 'C05MPDM',
        date: '2024-01-16',
      },
    });
    // --channels takes a group DM by its folder's name too.
    const mpim = await read({ includePrivate: true, channels: ['mpdm-alice--bob--carol-1'] });
    expect(mpim.warnings).toEqual([]);
    expect(mpim.records.map((r) => (r.value as { document_id: string }).document_id)).toEqual([
      'slack:C05MPDM:2024-01-16',
    ]);
  });

  it("an Enterprise Grid export's org_users.json names the people as users.json does", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-slack-grid-'));
    try {
      cpSync(EXPORT, dir, { recursive: true });
      renameSync(join(dir, 'users.json'), join(dir, 'org_users.json'));
      const channels = join(dir, 'channels.json');
      const grid = await read({ source: channels });
      expect(grid.warnings).toEqual([]);
      const folder = await read();
      expect(grid.records.map((r) => r.value)).toEqual(folder.records.map((r) => r.value));
      // Neither file: the people are named by their ids, and the run says why.
      rmSync(join(dir, 'org_users.json'));
      const none = await read({ source: channels });
      expect(none.warnings).toEqual(['SLACK_NO_USERS']);
      expect((none.records[1]!.value as { document: string }).document).toContain(
        'U02BOB: Welcome!',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a resume skips exactly the days already settled', async () => {
    const { records } = await read({ startAfterLine: 1 });
    expect(records.map((r) => r.line)).toEqual([3, 4]);
  });

  it('a zipped export reads the same as its folder; an encrypted day fails alone; other json of the export gives nothing', async () => {
    const folder = await read({ includePrivate: true });
    const entries: ZipEntrySpec[] = [];
    const walk = (rel: string): void => {
      for (const e of readdirSync(join(EXPORT, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else
          entries.push({
            name: `slack export/${r}`,
            data: readFileSync(join(EXPORT, r)),
            encrypted: r === 'leadership/2024-01-15.json',
          });
      }
    };
    walk('');
    const dir = mkdtempSync(join(tmpdir(), 'synap-slack-'));
    try {
      const zip = join(dir, 'export.zip');
      writeFileSync(zip, zipOf(entries));
      const got: SourceRecord[] = [];
      for await (const r of recordsOf(zip, { includePrivate: true })) got.push(r);
      const values = (rs: SourceRecord[]) => rs.filter((r) => r.value).map((r) => r.value);
      expect(values(got)).toEqual(
        values(folder.records).filter(
          (v) => (v as { document_id: string }).document_id !== 'slack:G01LEAD:2024-01-15',
        ),
      );
      const failed = got
        .filter((r) => r.parseError)
        .map((r) => [r.source, r.parseError!.message.slice(0, 40)]);
      expect(failed).toEqual([
        [`${zip}:slack export/random/2024-01-17.json`, 'not a day of Slack messages: Unterminate'],
        [
          `${zip}:slack export/leadership/2024-01-15.json`,
          'not read: the entry is encrypted; extrac',
        ],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const groups = await readSlackExport(createReadStream(join(EXPORT, 'groups.json')), {
      source: join(EXPORT, 'groups.json'),
      startAfterLine: 0,
    });
    expect((await groups.next()).done).toBe(true);
  });

  it("older exports' subtypes: reply_broadcast is said (thread_broadcast's old name), housekeeping is not", () => {
    const dir = { users: new Map([['U1', 'Ann Lee']]), channels: new Map<string, string>() };
    const v = slackDayRecord(
      [
        { type: 'message', user: 'U1', text: 'Plan?', ts: '1.000001', thread_ts: '1.000001' },
        { type: 'message', subtype: 'reply_broadcast', user: 'U1', text: 'Also here', ts: '2.1' },
        { type: 'message', subtype: 'group_join', user: 'U1', text: 'joined', ts: '3.1' },
        { type: 'message', subtype: 'channel_purpose', user: 'U1', text: 'set it', ts: '4.1' },
      ],
      dir,
      { id: 'C1', name: 'old' },
      '1970-01-01',
    );
    expect(v?.document).toBe('Ann Lee: Plan?\nAnn Lee: Also here');
  });

  it('markup pieces', () => {
    const dir = { users: new Map([['U1', 'Ann Lee']]), channels: new Map([['C9', 'ops']]) };
    expect(
      slackText(
        '<@U1> <@U2|zed> <@U3> <#C9> <#C8|eng> <!channel> <!subteam^S1|@design> <https://a.b> <https://a.b|A B>',
        dir,
      ),
    ).toBe('@Ann Lee @zed @U3 #ops #eng @channel @design https://a.b A B (https://a.b)');
    expect(speakerOf({ bot_id: 'B1', username: 'ci' }, dir)).toBe('ci (bot)');
    expect(speakerOf({ user: 'U7' }, dir)).toBe('U7');
    expect(
      userLabels([
        { id: 'U1', name: 'u', profile: { display_name: 'Disp' } },
        { id: 'U2', name: 'only' },
        null,
      ]),
    ).toEqual(
      new Map([
        ['U1', 'Disp'],
        ['U2', 'only'],
      ]),
    );
  });
});
