import { isPlainObject } from '../../json-value.js';
import { isoFromEpochSeconds, own, turnText, type ConversationResult } from './conversation.js';

/**
 * ChatGPT's data export: `conversations.json`, an array of conversations. Each holds its
 * messages as a tree (`mapping`: node id → {message, parent, children}): editing a message or
 * regenerating an answer adds a sibling branch, and `current_node` is the last message of the
 * branch the user last saw. Only that branch is the conversation.
 */

/** Content types that are the conversation; every other one (thoughts, reasoning_recap,
 * user_editable_context, tether_browsing_display, tether_quote, system_error…) is left out. */
const SPOKEN = new Set(['text', 'multimodal_text', 'code']);

/** The ids on the path from the root to `current` (root first), following `parent`. */
function branchTo(mapping: Record<string, unknown>, current: string): string[] {
  const path: string[] = [];
  const seen = new Set<string>();
  let at: string | undefined = current;
  while (at !== undefined && !seen.has(at)) {
    const node = own(mapping, at);
    if (!isPlainObject(node)) break;
    seen.add(at);
    path.push(at);
    const parent = own(node, 'parent');
    at = typeof parent === 'string' ? parent : undefined;
  }
  return path.reverse();
}

/**
 * Where the conversation ends: `current_node` when the mapping holds it, else the most
 * recently created leaf (a node with no children in the mapping); the last such one in the
 * mapping's order on a tie.
 */
export function currentNode(
  mapping: Record<string, unknown>,
  current: unknown,
): string | undefined {
  if (typeof current === 'string' && isPlainObject(own(mapping, current))) return current;
  let best: string | undefined;
  let bestTime = -Infinity;
  for (const id of Object.keys(mapping)) {
    const node = mapping[id];
    const children = own(node, 'children');
    const hasChild =
      Array.isArray(children) &&
      children.some((c) => typeof c === 'string' && isPlainObject(own(mapping, c)));
    if (hasChild) continue;
    const t = own(own(node, 'message'), 'create_time');
    const time = typeof t === 'number' && Number.isFinite(t) ? t : -Infinity;
    if (best === undefined || time >= bestTime) {
      best = id;
      bestTime = time;
    }
  }
  return best;
}

/** What a file is, by a content type or MIME type: `image`, `audio`, `video` or `file`. */
function fileKind(type: string): string {
  return ['image', 'audio', 'video'].find((kind) => new RegExp(kind, 'i').test(type)) ?? 'file';
}

/** `[image robin.jpg]`, or `[image]` when the file has no name. */
function placeholder(kind: string, name: unknown): string {
  return typeof name === 'string' && name.trim() !== '' ? `[${kind} ${name}]` : `[${kind}]`;
}

/**
 * The files attached to a message (`metadata.attachments`: id, name, MIME type), by id. A
 * pointer part names its file by the id after `file-service://` or `sediment://`.
 */
function attachmentsOf(message: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  const list = own(own(message, 'metadata'), 'attachments');
  if (!Array.isArray(list)) return out;
  list.forEach((a, i) => {
    if (!isPlainObject(a)) return;
    const id = own(a, 'id');
    out.set(typeof id === 'string' && id !== '' ? id : `#${i}`, a);
  });
  return out;
}

/**
 * A part of `content.parts` that is not a string: its text, or a short placeholder naming
 * the attached file it points at (taken from `files`, so it is not named twice).
 */
function partText(part: unknown, files: Map<string, Record<string, unknown>>): string {
  if (typeof part === 'string') return part;
  if (!isPlainObject(part)) return '';
  const text = own(part, 'text');
  if (typeof text === 'string') return text;
  const kind = fileKind(String(own(part, 'content_type') ?? own(part, 'type') ?? ''));
  const pointer = own(part, 'asset_pointer');
  const id = typeof pointer === 'string' ? pointer.replace(/^[a-z-]+:\/\//i, '') : undefined;
  const file = id === undefined ? undefined : files.get(id);
  if (file === undefined) return placeholder(kind, undefined);
  files.delete(id!);
  return placeholder(kind, own(file, 'name'));
}

/** The text of one message as the user saw it, or undefined when it is not shown. */
export function messageText(
  message: unknown,
): { label: 'User' | 'Assistant'; text: string } | undefined {
  if (!isPlainObject(message)) return undefined;
  const role = own(own(message, 'author'), 'role');
  if (role !== 'user' && role !== 'assistant') return undefined;
  if (own(own(message, 'metadata'), 'is_visually_hidden_from_conversation') === true)
    return undefined;
  const content = own(message, 'content');
  const type = own(content, 'content_type');
  if (typeof type !== 'string' || !SPOKEN.has(type)) return undefined;
  const files = attachmentsOf(message);
  const lines: string[] = [];
  if (type === 'code') {
    const code = own(content, 'text');
    if (typeof code === 'string') lines.push(code);
  } else {
    const parts = own(content, 'parts');
    if (Array.isArray(parts)) for (const p of parts) lines.push(partText(p, files));
  }
  // Files no part pointed at (a PDF, a spreadsheet) are named after the text, not dropped.
  for (const f of files.values()) {
    const mime = own(f, 'mime_type') ?? own(f, 'mimeType');
    lines.push(placeholder(fileKind(typeof mime === 'string' ? mime : ''), own(f, 'name')));
  }
  const text = lines.filter((l) => l !== '').join('\n');
  if (text.trim() === '') return undefined;
  return { label: role === 'user' ? 'User' : 'Assistant', text };
}

/** The turns of a conversation's current branch, in order. */
function chatgptTurns(conv: Record<string, unknown>): string[] {
  const mapping = own(conv, 'mapping');
  if (!isPlainObject(mapping)) return [];
  const end = currentNode(mapping, own(conv, 'current_node'));
  if (end === undefined) return [];
  const turns: string[] = [];
  for (const id of branchTo(mapping, end)) {
    const said = messageText(own(mapping[id], 'message'));
    if (said) turns.push(turnText(said.label, said.text));
  }
  return turns;
}

/** One conversation of the export → its document (see docs/sources.md for the mapping). */
export function chatgptConversation(value: unknown): ConversationResult {
  if (!isPlainObject(value) || !isPlainObject(own(value, 'mapping')))
    return { error: 'not a ChatGPT conversation (no "mapping" object)' };
  const turns = chatgptTurns(value);
  if (turns.length === 0) return { empty: true };
  const id = own(value, 'id') ?? own(value, 'conversation_id');
  const document: Record<string, unknown> = {
    document: turns.join('\n'),
    document_type: 'ai-chat-conversation',
  };
  if (typeof id === 'string' && id !== '') document.document_id = `chatgpt:${id}`;
  const created = isoFromEpochSeconds(own(value, 'create_time'));
  if (created) document.document_created_at = created;
  const metadata: Record<string, unknown> = { source: 'chatgpt' };
  const title = own(value, 'title');
  if (typeof title === 'string') metadata.title = title;
  const updated = isoFromEpochSeconds(own(value, 'update_time'));
  if (updated) metadata.updated_at = updated;
  document.metadata = metadata;
  return { document };
}
