import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { startScriptedServer, WHOAMI } from '../helpers/scripted-server.js';

/**
 * The ledger over real runs of the binary: what a second night sends. "Received" is what the
 * emulator was sent (every receipt of a document counts, repeats too), not what the CLI says.
 */
describe('ledger: a repeated ingest sends only what is new or changed', () => {
  const box = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = box.dir;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, processingDelayMs: 0, tier: 'unlimited' });
    env = { ...box.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    box.cleanup();
  });

  /** Documents received by the emulator so far, repeats included. */
  const received = () => emu.documents().reduce((n, d) => n + (d.times_received ?? 1), 0);

  const chats = (from: number, to: number, edited = new Set<number>()) => {
    const lines: string[] = [];
    for (let i = from; i <= to; i++) {
      const text = edited.has(i)
        ? `User: chat ${i}, edited\nAssistant: ok`
        : `User: chat ${i}\nAssistant: ok`;
      lines.push(
        JSON.stringify({
          document: text,
          document_id: `chat-${i}`,
          user_id: 'u1',
          customer_id: 'c1',
        }),
      );
    }
    return `${lines.join('\n')}\n`;
  };

  async function ingest(args: string[], extra: Record<string, string> = {}) {
    const r = await runInProcess(['--json', 'ingest', ...args], {
      env: { ...env, ...extra },
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).result as Record<
      'sent' | 'accepted' | 'unchanged' | 'updated' | 'kept_earlier',
      number
    > & { kept_earlier_ids: string[] };
  }

  it('a finished file run again sends 0 documents; one edited and ten appended: exactly 11', async () => {
    const file = join(dir, 'chats.jsonl');
    writeFileSync(file, chats(1, 30));
    const first = await ingest([file]);
    expect(first).toMatchObject({ accepted: 30, sent: 30, unchanged: 0 });
    const before = received();

    const second = await ingest([file]);
    // No document sent (the summary's requests are the pre-flight's: whoami, the estimate).
    expect(second).toMatchObject({ sent: 0, unchanged: 30 });
    expect(received()).toBe(before);

    writeFileSync(file, chats(1, 40, new Set([7])));
    const third = await ingest([file]);
    expect(third).toMatchObject({ sent: 11, unchanged: 29 });
    expect(received() - before).toBe(11);

    // The dry run counts what the real run sends.
    const fourth = await ingest([file, '--dry-run']);
    expect(fourth.unchanged).toBe(40 - fourth.sent);
  });

  it('a known id with another body is sent and counted as updated', async () => {
    const file = join(dir, 'hashed.jsonl');
    // Ids of the source's own; an instance that takes a repeated id as an update is modelled by
    // forgetting nothing and checking what the CLI decides to send.
    writeFileSync(file, chats(100, 104));
    expect(await ingest([file])).toMatchObject({ accepted: 5 });
    writeFileSync(file, chats(100, 104, new Set([102])));
    const dry = await ingest([file, '--dry-run']);
    expect(dry).toMatchObject({ sent: 1, updated: 1, unchanged: 4 });
  });

  it('an edited record that keeps its id, refused as already ingested: counted, explained, bounded', async () => {
    const file = join(dir, 'edited.jsonl');
    writeFileSync(file, chats(400, 404));
    expect(await ingest([file])).toMatchObject({ accepted: 5 });
    writeFileSync(file, chats(400, 404, new Set([402])));
    const r = await runInProcess(['ingest', file], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // The emulator keeps its earlier version (409): said so, with how to replace it.
    expect(r.stderr).toMatch(/kept earlier version:?\s+1 /);
    expect(r.stderr).toContain(
      '1 record (chat-402) changed since it was sent, but the service kept its earlier version',
    );
    expect(r.stderr).toContain('synap memories update');
    // The next night: the refused body is not sent again, and still named.
    const before = received();
    const j = await ingest([file]);
    expect(j).toMatchObject({ sent: 0, skipped: 0, unchanged: 5, kept_earlier: 1 });
    expect(j.kept_earlier_ids).toEqual(['chat-402']);
    expect(received()).toBe(before);
    // Edited once more: another body, sent (and refused) once.
    writeFileSync(file, chats(400, 404).replace('chat 402', 'chat 402, edited twice'));
    expect(await ingest([file])).toMatchObject({ sent: 1, skipped: 1, kept_earlier: 1 });
    expect(await ingest([file])).toMatchObject({ sent: 0, kept_earlier: 1 });
    expect(received() - before).toBe(1);
    // The ledger still names the body the service holds: the original is unchanged.
    writeFileSync(file, chats(400, 404));
    const back = await ingest([file]);
    expect(back).toMatchObject({ sent: 0, unchanged: 5 });
    expect(back.kept_earlier).toBeUndefined();
  });

  it('against a service that updates a repeated id in place, the edit is accepted, updated and recorded', async () => {
    const server = await startScriptedServer((req) => {
      if (req.url === '/api/v1/auth/whoami') return WHOAMI;
      if (req.url.startsWith('/v1/credits/')) return { status: 404, body: { detail: 'Not Found' } };
      if (req.url === '/api/v1/memories/batch') {
        const docs = (JSON.parse(req.body) as { documents: { document_id: string }[] }).documents;
        return {
          status: 200,
          body: {
            batch_id: 'b1',
            total: docs.length,
            succeeded: docs.length,
            failed: 0,
            results: docs.map((d, i) => ({
              ingestion_id: `ing-${req.body.length}-${i}`,
              document_id: d.document_id,
              status: 'queued',
              queued_at: new Date(0).toISOString(),
              error_message: null,
              error_code: null,
            })),
          },
        };
      }
      return { status: 404, body: { detail: 'Not Found' } };
    });
    try {
      const there = { SYNAP_BASE_URL: server.url };
      const file = join(dir, 'in-place.jsonl');
      writeFileSync(file, chats(500, 504));
      expect(await ingest([file], there)).toMatchObject({ accepted: 5 });
      writeFileSync(file, chats(500, 504, new Set([503])));
      const second = await ingest([file], there);
      expect(second).toMatchObject({ sent: 1, accepted: 1, updated: 1, unchanged: 4 });
      expect(second.kept_earlier).toBeUndefined();
      expect(await ingest([file], there)).toMatchObject({ sent: 0, unchanged: 5 });
    } finally {
      await server.close();
    }
  });

  it('four shards: the second night of every shard sends 0', async () => {
    const file = join(dir, 'sharded.jsonl');
    writeFileSync(file, chats(600, 639));
    const night = () =>
      Promise.all([0, 1, 2, 3].map((i) => ingest([file, '--shard', `${i}/4`, '--rate', '6000'])));
    const first = await night();
    expect(first.reduce((n, s) => n + s.accepted, 0)).toBe(40);
    const before = received();
    const second = await night();
    for (const s of second) expect(s).toMatchObject({ sent: 0 });
    expect(received()).toBe(before);
    // Another night after the file grew: every shard reads its records again, the ledger holds
    // them all, and only the new record is sent, by the shard it belongs to.
    writeFileSync(file, chats(600, 640));
    const third = await night();
    expect(third.reduce((n, s) => n + s.unchanged, 0)).toBe(40);
    expect(third.reduce((n, s) => n + s.sent, 0)).toBe(1);
    expect(received() - before).toBe(1);
  });

  it('--resend sends everything once; the ledger is kept for the next run', async () => {
    const file = join(dir, 'resend.jsonl');
    writeFileSync(file, chats(200, 209));
    await ingest([file]);
    const before = received();
    expect(await ingest([file, '--resend'])).toMatchObject({ sent: 10, unchanged: 0 });
    expect(received() - before).toBe(10);
    expect(await ingest([file])).toMatchObject({ sent: 0, unchanged: 10 });
  });

  it('records without a document_id get hash ids: unchanged when run again, an edit is a new document', async () => {
    const file = join(dir, 'noid.jsonl');
    const body = (n: number, extra = '') =>
      `${JSON.stringify({ document: `User: no id ${n}${extra}`, user_id: 'u1', customer_id: 'c1' })}\n`;
    writeFileSync(file, body(1) + body(2) + body(3));
    expect(await ingest([file])).toMatchObject({ accepted: 3 });
    expect(await ingest([file])).toMatchObject({ sent: 0, unchanged: 3 });
    writeFileSync(file, body(1) + body(2, ' edited') + body(3));
    // A hash id names its body: the edited record has a new id, so it is new, not an update.
    expect(await ingest([file])).toMatchObject({ sent: 1, accepted: 1, updated: 0, unchanged: 2 });
    // --id-from none: no id to key on, so always sent (and never recorded).
    const none = await ingest([file, '--id-from', 'none']);
    expect(none).toMatchObject({ sent: 3, unchanged: 0 });
  });

  it('a note folder: a note grown or re-dated since the last run is sent again, the rest not', async () => {
    // A note is one document of its whole file, dated by the file's time when its front matter
    // has no date: what the ledger remembers of a finished line-record file (its first bytes
    // held) does not hold for it.
    const vault = join(dir, 'vault');
    mkdirSync(vault, { recursive: true });
    for (const n of ['a', 'b', 'c']) writeFileSync(join(vault, `${n}.md`), `# ${n}\nnote ${n}\n`);
    utimesSync(
      join(vault, 'c.md'),
      new Date('2024-05-01T00:00:00Z'),
      new Date('2024-05-01T00:00:00Z'),
    );
    expect(await ingest(['vault'])).toMatchObject({ sent: 3 });
    expect(await ingest(['vault'])).toMatchObject({ sent: 0, unchanged: 3 });
    const before = received();
    appendFileSync(join(vault, 'b.md'), 'a line added the next day\n');
    utimesSync(
      join(vault, 'c.md'),
      new Date('2024-06-01T00:00:00Z'),
      new Date('2024-06-01T00:00:00Z'),
    );
    const third = await ingest(['vault']);
    expect(third).toMatchObject({ sent: 2, unchanged: 1 });
    expect(received() - before).toBe(2);
    // The emulator keeps the version it holds of a repeated id (a 409): these two were sent.
    expect(third.kept_earlier_ids).toEqual(['file:b.md', 'file:c.md']);
    expect(await ingest(['vault'])).toMatchObject({ sent: 0 });
  });

  it('the ledger is one private file in the state directory', () => {
    const path = join(dir, '.local', 'state', 'synap', 'ledger.sqlite');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).subarray(0, 15).toString()).toBe('SQLite format 3');
  });

  it('a new machine after `ledger rebuild` sends 0; `ledger forget` makes the next run send again', async () => {
    const file = join(dir, 'chats.jsonl');
    // Another machine: its own state directory, nothing in its ledger.
    const machine = { XDG_STATE_HOME: join(dir, 'machine-2') };
    const dry = await ingest([file, '--dry-run'], machine);
    expect(dry.sent).toBe(40);
    const r = await runInProcess(['--json', 'ledger', 'rebuild'], { env: { ...env, ...machine } });
    expect(r.code, r.stderr).toBe(0);
    const rebuilt = JSON.parse(r.stdout).result;
    expect(rebuilt.listed).toBe(new Set(emu.documents().map((d) => d.document_id)).size);
    const before = received();
    const next = await ingest([file], machine);
    expect(next).toMatchObject({ sent: 0, unchanged: 40 });
    expect(received()).toBe(before);
    // Hash ids are restored with their bodies: an edit of such a record is a new document.
    expect(await ingest([join(dir, 'noid.jsonl')], machine)).toMatchObject({ sent: 0 });

    const f = await runInProcess(['--json', 'ledger', 'forget', 'chat-3', 'chat-4'], {
      env: { ...env, ...machine },
    });
    expect(f.code, f.stderr).toBe(0);
    expect(JSON.parse(f.stdout).result).toMatchObject({ forgotten: 2 });
    expect(await ingest([file], machine)).toMatchObject({ sent: 2, unchanged: 38 });

    const all = await runInProcess(['--json', 'ledger', 'forget'], { env: { ...env, ...machine } });
    expect(JSON.parse(all.stdout).result.all).toBe(true);
    const status = await runInProcess(['--json', 'ledger', 'status'], {
      env: { ...env, ...machine },
    });
    expect(JSON.parse(status.stdout).result.instances).toEqual([
      expect.objectContaining({ documents: 0 }),
    ]);
    expect((await ingest([file, '--dry-run'], machine)).sent).toBe(40);
  });
});
