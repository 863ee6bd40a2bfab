import { isPlainObject } from '../../json-value.js';
import { isoFromString, own, turnText, type ConversationResult } from './conversation.js';

/**
 * Claude's data export: `conversations.json`, an array of conversations, each with its
 * messages in order (`chat_messages`), a sender (`human` or `assistant`) and content blocks.
 */

const SENDERS: Record<string, 'User' | 'Assistant'> = { human: 'User', assistant: 'Assistant' };

/**
 * The text of one message: its `text` content blocks (thinking, tool_use and tool_result
 * blocks are left out); the message's `text` field only when it has no content blocks, as it
 * differs from them in many exports. Attachments follow, their extracted text introduced by
 * the file's name; attachments and files without text are named.
 */
export function claudeMessageText(message: unknown): string {
  const parts: string[] = [];
  const content = own(message, 'content');
  // An empty list of blocks is no blocks: the text field is then all the message has.
  if (Array.isArray(content) && content.length > 0) {
    for (const block of content) {
      if (own(block, 'type') !== 'text') continue;
      const text = own(block, 'text');
      if (typeof text === 'string' && text.trim() !== '') parts.push(text);
    }
  } else {
    const text = own(message, 'text');
    if (typeof text === 'string' && text.trim() !== '') parts.push(text);
  }
  const attachments = own(message, 'attachments');
  if (Array.isArray(attachments)) {
    for (const a of attachments) {
      const name = fileName(a);
      const extracted = own(a, 'extracted_content');
      parts.push(
        typeof extracted === 'string' && extracted.trim() !== ''
          ? `[attachment ${name}]\n${extracted}`
          : `[attachment ${name}]`,
      );
    }
  }
  const files = own(message, 'files');
  if (Array.isArray(files)) for (const f of files) parts.push(`[file ${fileName(f)}]`);
  return parts.join('\n');
}

function fileName(f: unknown): string {
  const name = own(f, 'file_name');
  return typeof name === 'string' && name !== '' ? name : 'unnamed';
}

/** One conversation of the export → its document (see docs/sources.md for the mapping). */
export function claudeConversation(value: unknown): ConversationResult {
  const messages = own(value, 'chat_messages');
  if (!isPlainObject(value) || !Array.isArray(messages))
    return { error: 'not a Claude conversation (no "chat_messages" array)' };
  const turns: string[] = [];
  for (const m of messages) {
    const sender = own(m, 'sender');
    const label = typeof sender === 'string' ? SENDERS[sender] : undefined;
    if (label === undefined) continue;
    const text = claudeMessageText(m);
    if (text.trim() !== '') turns.push(turnText(label, text));
  }
  if (turns.length === 0) return { empty: true };
  const document: Record<string, unknown> = {
    document: turns.join('\n'),
    document_type: 'ai-chat-conversation',
  };
  const id = own(value, 'uuid');
  if (typeof id === 'string' && id !== '') document.document_id = `claude:${id}`;
  const created = isoFromString(own(value, 'created_at'));
  if (created) document.document_created_at = created;
  const metadata: Record<string, unknown> = { source: 'claude' };
  const name = own(value, 'name');
  if (typeof name === 'string') metadata.name = name;
  document.metadata = metadata;
  return { document };
}
