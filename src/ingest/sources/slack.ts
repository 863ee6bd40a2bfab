import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerEntry } from '../containers.js';
import type { FormatReadContext } from '../formats/spec.js';
import { parseError, rawOf } from '../readers/common.js';
import type { RecordBatch, SourceRecord } from '../source-record.js';
import type { SourceDocument } from './formats.js';
import { readWhole } from './whole-file.js';

/*
 * A Slack workspace export: channels.json, users.json (org_users.json from an Enterprise Grid
 * org), and one folder per channel holding one JSON array of messages per day
 * (YYYY-MM-DD.json); private channels in groups.json, direct messages in dms.json and
 * mpims.json. Each channel's day becomes one speaker-labelled conversation document.
 */

/** A message as the export holds it (only the fields read here). */
export interface SlackMessage {
  type?: string;
  subtype?: string;
  hidden?: boolean;
  user?: string;
  bot_id?: string;
  username?: string;
  bot_profile?: { name?: string };
  user_profile?: { real_name?: string; display_name?: string };
  text?: string;
  ts?: string;
  thread_ts?: string;
  files?: { name?: string; title?: string }[];
  /** Legacy attachments: what an integration (Jira, GitHub) posts, or a link's preview. */
  attachments?: { fallback?: string; title?: string; text?: string }[];
}

/** The names the export gives people and channels, by id. */
export interface SlackDirectory {
  users: Map<string, string>;
  channels: Map<string, string>;
}

/**
 * Messages that are what people said. Everything else (joins, leaves, topic, purpose and name
 * changes, archiving, pins, bot and reminder housekeeping, deleted-message tombstones) is left
 * out.
 */
const KEPT_SUBTYPES = new Set([
  'bot_message',
  'thread_broadcast',
  // thread_broadcast's name in older exports.
  'reply_broadcast',
  'file_share',
  'me_message',
]);

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() ? v.trim() : undefined;
}

/** users.json → id → label: real name, else display name, else user name, else the id. */
export function userLabels(users: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(users)) return out;
  for (const u of users as Record<string, unknown>[]) {
    const id = str(u?.id);
    if (!id) continue;
    const p = (u.profile ?? {}) as Record<string, unknown>;
    out.set(id, str(u.real_name) ?? str(p.real_name) ?? str(p.display_name) ?? str(u.name) ?? id);
  }
  return out;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>' };

/**
 * Slack's message markup as plain text: `<@U…>` → `@Name`, `<#C…|name>` → `#name`, `<!here>` →
 * `@here`, `<!subteam^S…|@team>` → `@team`, a link keeps its text (and its address when the text
 * is not the address), then `&amp;`, `&lt;`, `&gt;` decoded.
 */
export function slackText(text: string, dir: SlackDirectory): string {
  return text
    .replace(/<([^<>]*)>/g, (_whole, inner: string) => {
      const bar = inner.indexOf('|');
      const target = bar < 0 ? inner : inner.slice(0, bar);
      const label = bar < 0 ? undefined : inner.slice(bar + 1);
      if (target.startsWith('@')) {
        const id = target.slice(1);
        return `@${dir.users.get(id) ?? label ?? id}`;
      }
      if (target.startsWith('#')) {
        const id = target.slice(1);
        return `#${label || dir.channels.get(id) || id}`;
      }
      if (target.startsWith('!')) {
        if (label) return label.startsWith('@') ? label : `@${label}`;
        const word = target.slice(1).split('^')[0]!;
        return `@${word}`;
      }
      if (!label) return target.replace(/^mailto:/, '');
      const bare = target.replace(/^mailto:/, '');
      return label === target || label === bare ? label : `${label} (${bare})`;
    })
    .replace(/&(amp|lt|gt);/g, (_w, e: string) => ENTITIES[e]!);
}

/**
 * Who said it: a bot by its name, marked as a bot; a person by their users.json label. A bot
 * is a `bot_message`, a message with a bot's profile (an app posts with its bot user's id and
 * `bot_profile`), or one with a `bot_id` and no user.
 */
export function speakerOf(m: SlackMessage, dir: SlackDirectory): string {
  const isBot =
    m.subtype === 'bot_message' ||
    (m.bot_id !== undefined && (m.user === undefined || m.bot_profile !== undefined));
  if (isBot) return `${str(m.bot_profile?.name) ?? str(m.username) ?? m.bot_id ?? 'bot'} (bot)`;
  const id = m.user ?? '';
  return (
    dir.users.get(id) ??
    str(m.user_profile?.real_name) ??
    str(m.user_profile?.display_name) ??
    (id || 'unknown')
  );
}

function tsNumber(ts: string | undefined): number {
  const n = Number(ts);
  return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY;
}

/** The messages people wrote, in time order, each thread's replies right after its parent. */
export function conversationOrder(messages: SlackMessage[]): SlackMessage[] {
  const kept = messages.filter(
    (m) =>
      m &&
      typeof m === 'object' &&
      (m.type === undefined || m.type === 'message') &&
      m.hidden !== true &&
      (m.subtype === undefined || KEPT_SUBTYPES.has(m.subtype)),
  );
  kept.sort((a, b) => tsNumber(a.ts) - tsNumber(b.ts));
  const present = new Set(kept.map((m) => m.ts));
  const replies = new Map<string, SlackMessage[]>();
  const top: SlackMessage[] = [];
  for (const m of kept) {
    const parent = m.thread_ts;
    if (parent !== undefined && parent !== m.ts && present.has(parent)) {
      const list = replies.get(parent) ?? [];
      list.push(m);
      replies.set(parent, list);
    } else top.push(m);
  }
  const out: SlackMessage[] = [];
  for (const m of top) {
    out.push(m);
    if (m.ts !== undefined) out.push(...(replies.get(m.ts) ?? []));
  }
  return out;
}

/**
 * What a message's attachments say: each one's plain-text summary (`fallback`), else its title
 * and text. Read only for a message without text of its own (an integration's post), so link
 * previews under what a person wrote are not repeated.
 */
function attachmentsText(m: SlackMessage, dir: SlackDirectory): string {
  const list = Array.isArray(m.attachments) ? m.attachments : [];
  return list
    .map((a) => {
      const said = str(a?.fallback) ?? [str(a?.title), str(a?.text)].filter(Boolean).join(': ');
      return slackText(said, dir).trim();
    })
    .filter(Boolean)
    .join(' ');
}

/** A message's line(s): `Speaker: text`, files named. Empty when it says nothing. */
function messageLine(m: SlackMessage, dir: SlackDirectory): string {
  const own = slackText(typeof m.text === 'string' ? m.text : '', dir).trim();
  const text = own || attachmentsText(m, dir);
  const files = (m.files ?? [])
    .map((f) => str(f?.name) ?? str(f?.title))
    .filter((n): n is string => n !== undefined)
    .map((n) => `[file: ${n}]`);
  const said = [text, ...files].filter(Boolean).join(' ');
  return said ? `${speakerOf(m, dir)}: ${said}` : '';
}

/**
 * One channel's day → its record value: the messages as speaker-labelled lines in conversation
 * order; undefined when nothing was said (only joins and other housekeeping).
 */
export function slackDayRecord(
  messages: SlackMessage[],
  dir: SlackDirectory,
  channel: { id: string; name: string },
  day: string,
): SourceDocument<'ai-chat-conversation'> | undefined {
  const ordered = conversationOrder(messages);
  const lines = ordered.map((m) => messageLine(m, dir)).filter(Boolean);
  if (lines.length === 0) return undefined;
  const first = Math.min(...ordered.map((m) => tsNumber(m.ts)));
  const value: SourceDocument<'ai-chat-conversation'> = {
    document: lines.join('\n'),
    document_type: 'ai-chat-conversation',
    document_id: `slack:${channel.id}:${day}`,
    metadata: { source: 'slack', channel: channel.name, channel_id: channel.id, date: day },
  };
  if (Number.isFinite(first)) value.document_created_at = new Date(first * 1000).toISOString();
  return value;
}

/** A channel of the export: its id, its name, and the folder its days are in. */
interface SlackChannel {
  id: string;
  name: string;
  folder: string;
}

/**
 * channels.json / groups.json / mpims.json / dms.json → channels. A direct message (`dm`) or a
 * group DM (`mpim`) is named by its people, as its own name is ids or handles.
 */
function channelsOf(
  list: unknown,
  users: Map<string, string>,
  kind: 'channel' | 'mpim' | 'dm',
): SlackChannel[] {
  if (!Array.isArray(list)) return [];
  const out: SlackChannel[] = [];
  for (const c of list as Record<string, unknown>[]) {
    const id = str(c?.id);
    if (!id) continue;
    const members = Array.isArray(c.members) ? (c.members as unknown[]).map(String) : [];
    const people = members.map((m) => users.get(m) ?? m).join(', ');
    const name =
      kind === 'dm'
        ? `dm: ${people}`
        : kind === 'mpim'
          ? `group dm: ${people}`
          : (str(c.name) ?? id);
    // The export names a channel's (and a group DM's) folder after it, a direct message's after its id.
    out.push({ id, name, folder: kind === 'dm' ? id : (str(c.name) ?? id) });
  }
  return out;
}

/** The files of an export, wherever it lies: a folder, or the entries of a zip. */
interface ExportTree {
  /** The name a file of the export is reported by (its path, or `<zip>:<entry>`). */
  where(rel: string): string;
  /** A file's bytes, or undefined when the export has no such file. */
  read(rel: string): Promise<Buffer | undefined>;
  /** The names of the files in one of its folders. */
  list(folder: string): Promise<string[]>;
  close(): void;
}

function folderTree(root: string): ExportTree {
  return {
    where: (rel) => join(root, rel),
    read: (rel) =>
      readFile(join(root, rel)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      }),
    list: (folder) => readdir(join(root, folder)).catch(() => [] as string[]),
    close: () => {},
  };
}

/** A zipped export's entries under `prefix` (the folder its channels.json is in). */
async function zipTree(archive: string, prefix: string): Promise<ExportTree> {
  const { openZipEntries } = await import('../readers/zip.js');
  const zip = await openZipEntries(archive);
  const byName = new Map<string, ContainerEntry>();
  for (const e of zip.entries) {
    // A refused entry (encrypted, a zip bomb) is reported by the archive reader, naming it.
    if (e.unsafeName === undefined && e.refused === undefined && e.name.startsWith(prefix))
      byName.set(e.name.slice(prefix.length), e);
  }
  return {
    where: (rel) => `${archive}:${prefix}${rel}`,
    read: async (rel) => {
      const e = byName.get(rel);
      if (!e) return undefined;
      if (e.refused !== undefined) throw new Error(e.refused);
      const { bytes, truncated } = await readWhole(await e.open(), MAX_DAY_BYTES);
      if (truncated) throw new Error(`larger than ${MAX_DAY_BYTES / (1024 * 1024)} MB`);
      return bytes;
    },
    list: (folder) =>
      Promise.resolve(
        [...byName.keys()]
          .filter((n) => n.startsWith(`${folder}/`) && !n.slice(folder.length + 1).includes('/'))
          .map((n) => n.slice(folder.length + 1)),
      ),
    close: () => zip.close(),
  };
}

/** A file of the export (users.json, a day) larger than this is not read. */
const MAX_DAY_BYTES = 256 * 1024 * 1024;

async function readJsonIfThere(tree: ExportTree, rel: string): Promise<unknown> {
  const bytes = await tree.read(rel);
  return bytes === undefined ? undefined : (JSON.parse(bytes.toString('utf8')) as unknown);
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.json$/;

/**
 * The `slack` format's reader, given an export's channels.json: the export is the folder it is
 * in. Channels are read in the order of channels.json (then private channels, DMs and group DMs
 * with `includePrivate`), each one's days in date order; each day is one record whose `line` is
 * its place in that order, so a resume skips exactly the days already settled. A day file that
 * is not JSON fails alone with its text; `--channels` (names or ids) limits the channels.
 */
export async function* readSlackExport(
  bytes: AsyncIterable<Buffer>,
  ctx: FormatReadContext,
): AsyncGenerator<RecordBatch> {
  const source = ctx.source;
  const channelsText = (await readWhole(bytes, Infinity)).bytes.toString('utf8');
  // The export is the folder (or the zip folder) its channels.json is in.
  const name = ctx.name ?? source;
  const file = name.split(/[/\\]/).pop();
  if (file !== 'channels.json') return;
  const inZip = ctx.name !== undefined && source.endsWith(`:${ctx.name}`) && /\.zip:/i.test(source);
  const tree = inZip
    ? await zipTree(
        source.slice(0, source.length - ctx.name!.length - 1),
        name.slice(0, -file.length),
      )
    : folderTree(source.slice(0, source.length - file.length) || '.');
  try {
    yield* readExport(tree, channelsText, ctx);
  } finally {
    tree.close();
  }
}

async function* readExport(
  tree: ExportTree,
  channelsText: string,
  ctx: FormatReadContext,
): AsyncGenerator<RecordBatch> {
  const source = ctx.source;
  // An Enterprise Grid org's export names its people in org_users.json instead.
  const users = userLabels(
    (await readJsonIfThere(tree, 'users.json')) ?? (await readJsonIfThere(tree, 'org_users.json')),
  );
  if (users.size === 0) {
    ctx.warn?.({
      source,
      code: 'SLACK_NO_USERS',
      message: `${tree.where('users.json')}: no users (nor in org_users.json): speakers are labelled by their ids`,
    });
  }
  let list: unknown;
  try {
    list = JSON.parse(channelsText.replace(/^\uFEFF/, ''));
  } catch (err) {
    yield [
      parseError(
        source,
        1,
        `not a Slack channels.json: ${(err as Error).message}`,
        { raw: channelsText },
        'slack',
      ),
    ];
    return;
  }
  const channels = channelsOf(list, users, 'channel');
  if (ctx.includePrivate) {
    channels.push(...channelsOf(await readJsonIfThere(tree, 'groups.json'), users, 'channel'));
    channels.push(...channelsOf(await readJsonIfThere(tree, 'mpims.json'), users, 'mpim'));
    channels.push(...channelsOf(await readJsonIfThere(tree, 'dms.json'), users, 'dm'));
  }
  const wanted = ctx.channels;
  // --channels names a channel by its name, its id or its folder (a group DM's `mpdm-…` name).
  const named = (c: SlackChannel, w: string) => c.name === w || c.id === w || c.folder === w;
  const chosen = wanted ? channels.filter((c) => wanted.some((w) => named(c, w))) : channels;
  // A name in --channels that the export does not have is said, not silently read as nothing.
  for (const w of wanted ?? []) {
    if (channels.some((c) => named(c, w))) continue;
    ctx.warn?.({
      source,
      code: 'SLACK_NO_SUCH_CHANNEL',
      message: `${source}: the export has no channel "${w}"${ctx.includePrivate ? '' : ' (private channels and DMs need --include-private)'}`,
    });
  }
  const dir: SlackDirectory = { users, channels: new Map(channels.map((c) => [c.id, c.name])) };
  let line = 0;
  for (const channel of chosen) {
    const days = (await tree.list(channel.folder)).filter((n) => DAY_FILE.test(n)).sort();
    for (const file of days) {
      line += 1;
      if (line <= ctx.startAfterLine) continue;
      const day = DAY_FILE.exec(file)![1]!;
      const rec = await dayRecord(tree, `${channel.folder}/${file}`, line, dir, channel, day);
      // A day with only housekeeping sends nothing; its line number stays taken.
      if (rec) yield [rec];
    }
  }
}

async function dayRecord(
  tree: ExportTree,
  rel: string,
  line: number,
  dir: SlackDirectory,
  channel: SlackChannel,
  day: string,
): Promise<SourceRecord | undefined> {
  const path = tree.where(rel);
  let bytes: Buffer;
  try {
    bytes = (await tree.read(rel)) ?? Buffer.alloc(0);
  } catch (err) {
    return parseError(path, line, `not read: ${(err as Error).message}`, undefined, 'slack');
  }
  const text = bytes.toString('utf8');
  let messages: unknown;
  let why: string | undefined;
  try {
    messages = JSON.parse(text);
    if (!Array.isArray(messages)) why = 'not a JSON array';
  } catch (err) {
    why = (err as Error).message;
  }
  if (why !== undefined) {
    return parseError(
      path,
      line,
      `not a day of Slack messages: ${why}`,
      rawOf(bytes, text),
      'slack',
    );
  }
  const value = slackDayRecord(messages as SlackMessage[], dir, channel, day);
  return value ? { source: path, line, value, format: 'slack' } : undefined;
}
