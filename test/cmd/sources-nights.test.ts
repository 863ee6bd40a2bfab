import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { zipOf } from '../helpers/zip-writer.js';

// A source read again later, as a nightly job does: only what changed since the last run is
// sent (the ledger), whatever the source: a notes vault edited between two nights, a ChatGPT
// export downloaded again a month later.

const SAMPLES = join(import.meta.dirname, '..', '..', 'samples');

interface Result {
  kept_earlier?: number;
  kept_earlier_ids?: string[];
  sent: number;
  accepted: number;
  unchanged: number;
  failed: number;
}

describe('a source ingested again on a later night', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const run = (args: string[]) => runInProcess(args, { env, cwd: dir, timeoutMs: 60_000 });
  const night = async (args: string[]) => {
    const r = await run(['--json', 'ingest', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return { ...(JSON.parse(r.stdout).result as Result), stderr: r.stderr };
  };
  const received = () => new Map(emu.documents().map((d) => [d.document_id, d.times_received]));

  beforeAll(async () => {
    // One request a note: a rate limit that never paces these runs.
    emu = await startEmulator({ processingDelayMs: 0, rpm: 60_000, burst: 1000 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('a notes vault: the edited, moved and new notes are sent; the others and the deleted one are not', async () => {
    const vault = join(dir, 'vault');
    mkdirSync(join(vault, 'journal'), { recursive: true });
    for (const n of ['a', 'b', 'c', 'd', 'e'])
      writeFileSync(join(vault, 'journal', `${n}.md`), `Note ${n}: first version\n`);
    const first = await night(['vault']);
    expect(first).toMatchObject({ sent: 5, accepted: 5, unchanged: 0, failed: 0 });

    writeFileSync(join(vault, 'journal', 'a.md'), 'Note a: edited the next day\n');
    mkdirSync(join(vault, 'archive'));
    renameSync(join(vault, 'journal', 'b.md'), join(vault, 'archive', 'b.md'));
    rmSync(join(vault, 'journal', 'c.md'));
    writeFileSync(join(vault, 'journal', 'f.md'), 'Note f: new\n');
    const before = received();
    const second = await night(['vault']);
    // a (edited), archive/b (a new path, so a new id) and f; d and e are unchanged; c is gone.
    expect(second).toMatchObject({ sent: 3, unchanged: 2, failed: 0 });
    const after = received();
    const sentAgain = [...after]
      .filter(([id, n]) => id.startsWith('file:') && n !== (before.get(id) ?? 0))
      .map(([id]) => id)
      .sort();
    expect(sentAgain).toEqual(['file:archive/b.md', 'file:journal/a.md', 'file:journal/f.md']);
    // The service keeps the first body of a document id (409): the edit is not stored, and
    // the user is told so instead of reading "skipped (already ingested)" alone.
    expect(second).toMatchObject({ kept_earlier: 1, kept_earlier_ids: ['file:journal/a.md'] });

    // A third night with nothing new sends nothing that is new to the service.
    const third = await night(['vault']);
    expect(third.unchanged).toBeGreaterThanOrEqual(4);
    expect(third.failed).toBe(0);
  });

  it('a ChatGPT export downloaded again: exactly the conversations that grew and the new ones are sent', async () => {
    const exportDir = join(SAMPLES, 'chatgpt-export');
    const others = ['user.json', 'message_feedback.json', 'shared_conversations.json', 'chat.html'];
    const zipWith = (conversations: unknown) =>
      zipOf([
        { name: 'conversations.json', data: JSON.stringify(conversations) },
        ...others.map((name) => ({ name, data: readFileSync(join(exportDir, name), 'utf8') })),
      ]);
    type Conversation = {
      id: string;
      conversation_id: string;
      title: string;
      create_time: number;
      update_time: number;
      current_node: string;
      mapping: Record<string, { id: string; parent: string | null; children: string[] } & object>;
    };
    const conversations = JSON.parse(
      readFileSync(join(exportDir, 'conversations.json'), 'utf8'),
    ) as Conversation[];
    writeFileSync(join(dir, 'chatgpt-export.zip'), zipWith(conversations));
    const first = await night(['chatgpt-export.zip']);
    expect(first.failed).toBe(0);
    const sentFirst = first.sent;
    expect(sentFirst).toBeGreaterThan(1);

    // A month later: the first conversation goes on, and a new conversation is started.
    const later = structuredClone(conversations);
    const grown = later[0]!;
    const turn = (id: string, parent: string, role: string, text: string) => ({
      id,
      message: {
        id,
        author: { role, name: null, metadata: {} },
        create_time: grown.update_time + 86_400 * 30,
        update_time: null,
        content: { content_type: 'text', parts: [text] },
        status: 'finished_successfully',
        end_turn: null,
        weight: 1,
        metadata: {},
        recipient: 'all',
      },
      parent,
      children: [] as string[],
    });
    const last = grown.current_node;
    grown.mapping[last]!.children.push('later-q');
    grown.mapping['later-q'] = turn('later-q', last, 'user', 'And in January?');
    grown.mapping['later-q'].children.push('later-a');
    grown.mapping['later-a'] = turn('later-a', 'later-q', 'assistant', 'Fewer sightings.');
    grown.current_node = 'later-a';
    grown.update_time += 86_400 * 30;
    const fresh = structuredClone(later[1]!);
    fresh.id = fresh.conversation_id = 'c0ffee00-0000-4000-8000-000000000001';
    fresh.title = 'A new conversation';
    later.push(fresh);
    writeFileSync(join(dir, 'chatgpt-export.zip'), zipWith(later));
    const before = received();
    const second = await night(['chatgpt-export.zip']);
    expect(second).toMatchObject({ sent: 2, unchanged: sentFirst - 1, failed: 0 });
    const changed = [...received()]
      .filter(([id, n]) => id.startsWith('chatgpt:') && n !== (before.get(id) ?? 0))
      .map(([id]) => id)
      .sort();
    expect(changed).toEqual([`chatgpt:${grown.id}`, `chatgpt:${fresh.id}`].sort());
    expect(second).toMatchObject({ kept_earlier: 1, kept_earlier_ids: [`chatgpt:${grown.id}`] });
  });

  it('the sample vault copied: a second night sends nothing', async () => {
    cpSync(join(SAMPLES, 'notes'), join(dir, 'samples-notes'), { recursive: true });
    const first = await night(['samples-notes']);
    expect(first.sent).toBeGreaterThan(0);
    const second = await night(['samples-notes']);
    expect(second).toMatchObject({ sent: 0, unchanged: first.sent });
  });
});
