import { createHash } from 'node:crypto';
import { compile, type HtmlToTextOptions } from 'html-to-text';
import PostalMime, { type Address, type Attachment, type Email } from 'postal-mime';
import type { SourceDocument } from './formats.js';
import { fixWindows1252 } from './windows-1252.js';

/** Where a mail message came from: a mailbox (`mbox`) or a single saved message (`eml`). */
export type MailSource = 'mbox' | 'eml';

/**
 * HTML bodies become plain text: no tags, entities decoded, headings kept as written, links keep
 * their text and target, images (often tracking pixels or logos) and the document's head dropped.
 */
const HTML_TO_TEXT: HtmlToTextOptions = {
  wordwrap: false,
  selectors: [
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({
      selector,
      options: { uppercase: false },
    })),
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, ignoreHref: false } },
    { selector: 'img', format: 'skip' },
    { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
  ],
};
const htmlToText = compile(HTML_TO_TEXT);

function fix(text: string | undefined): string | undefined {
  return text === undefined ? undefined : fixWindows1252(text);
}

function mailbox(a: { name: string; address?: string | undefined }): string {
  const name = fix(a.name)?.trim() ?? '';
  const address = a.address ?? '';
  if (!name) return address;
  if (!address) return name;
  // A name with RFC 5322 specials is quoted, so `"Doe, Jane" <j@x>` stays one address.
  const shown = /[,;:<>@"()[\]\\]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return `${shown} <${address}>`;
}

/** One address as a person writes it: `Name <addr>`, or a group `Team: a, b;`. */
function formatAddress(a: Address): string {
  if (a.group) return `${fix(a.name) ?? ''}: ${a.group.map(mailbox).join(', ')};`;
  return mailbox(a);
}

function formatAddresses(list: Address[] | undefined): string {
  return (list ?? []).map(formatAddress).join(', ');
}

/** `120 KB`: bytes under 1 KB as bytes, under 1 MB in whole KB, above in MB with one decimal. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function attachmentSize(a: Attachment): number {
  const c = a.content;
  if (typeof c === 'string')
    return a.encoding === 'base64' ? Buffer.from(c, 'base64').length : c.length;
  return c.byteLength;
}

function attachmentLine(a: Attachment): string {
  const name = fix(a.filename ?? undefined)?.trim() || a.mimeType || 'unnamed';
  return `[attachment: ${name}, ${formatSize(attachmentSize(a))}]`;
}

/** A Message-ID without its angle brackets and surrounding space; '' when there is none. */
function bareMessageId(id: string | undefined): string {
  return (id ?? '').trim().replace(/^<\s*/, '').replace(/\s*>$/, '').trim();
}

/** The first id of a References header (the thread's first message). */
function firstReference(refs: string | undefined): string {
  const m = /<[^<>]*>/.exec(refs ?? '');
  return m ? bareMessageId(m[0]) : bareMessageId((refs ?? '').trim().split(/\s+/)[0]);
}

/** An ISO 8601 UTC time of a Date header, or undefined when it does not name a real time. */
function isoDate(date: string | undefined): string | undefined {
  if (!date) return undefined;
  const t = Date.parse(date);
  if (Number.isNaN(t)) return undefined;
  const iso = new Date(t).toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

function bodyText(email: Email): string {
  const text = fix(email.text)?.trim() ?? '';
  if (text) return text;
  const html = fix(email.html) ?? '';
  return html.trim() ? htmlToText(html).trim() : '';
}

/** A message whose header section holds no header field is not mail. */
function hasHeaderField(raw: Uint8Array): boolean {
  const head = Buffer.from(raw.buffer, raw.byteOffset, Math.min(raw.byteLength, 1000)).toString(
    'latin1',
  );
  return /^[!-9;-~]+[ \t]*:/.test(head.replace(/^(\r?\n)+/, ''));
}

/**
 * One RFC 5322 message (its bytes, any charset or transfer encoding) → the record value of an
 * `email` document:
 * - `document`: From/To/Cc/Subject/Date lines (those the message has), a blank line, then the
 *   text part, else the HTML part as text; each attachment named with its size, never inlined;
 * - `document_id`: `email:<Message-ID without brackets>`, else `email:sha256-<hash of the bytes>`
 *   (CRLF line ends hashed as LF: one message saved by two mail programs has one id);
 * - `document_created_at`: the Date header in ISO 8601 UTC (left out when it names no time);
 * - `metadata`: source, subject, from, to, in_reply_to and thread_id (the first References id).
 * A message MIME cannot read, or with no header field at all, is a failure: why, for the
 * failures file.
 */
export async function emailRecord(
  raw: Uint8Array,
  source: MailSource,
): Promise<SourceDocument<'email'> | { error: string }> {
  if (!hasHeaderField(raw)) return { error: 'not a mail message: it has no header fields' };
  let email: Email;
  try {
    email = await PostalMime.parse(raw);
  } catch (err) {
    return { error: `not a readable mail message: ${(err as Error).message}` };
  }
  const from = email.from ? formatAddress(email.from) : '';
  const to = formatAddresses(email.to);
  const cc = formatAddresses(email.cc);
  const subject = fix(email.subject)?.trim() ?? '';
  const dateHeader = email.headers.find((h) => h.key === 'date')?.value.trim() ?? '';

  const head: string[] = [];
  if (from) head.push(`From: ${from}`);
  if (to) head.push(`To: ${to}`);
  if (cc) head.push(`Cc: ${cc}`);
  if (subject) head.push(`Subject: ${subject}`);
  if (dateHeader) head.push(`Date: ${dateHeader}`);
  const parts = [head.join('\n')];
  const body = bodyText(email);
  if (body) parts.push(body);
  const attachments = email.attachments.map(attachmentLine);
  if (attachments.length) parts.push(attachments.join('\n'));

  const messageId = bareMessageId(email.messageId);
  const id = messageId
    ? `email:${messageId}`
    : `email:sha256-${createHash('sha256').update(lfLineEnds(raw)).digest('hex').slice(0, 40)}`;

  const metadata: Record<string, string | string[]> = { source };
  if (subject) metadata.subject = subject;
  if (from) metadata.from = from;
  if (to) metadata.to = to;
  if (cc) metadata.cc = cc;
  if (messageId) metadata.message_id = messageId;
  const inReplyTo = bareMessageId(email.inReplyTo);
  if (inReplyTo) metadata.in_reply_to = inReplyTo;
  const thread = firstReference(email.references);
  if (thread) metadata.thread_id = thread;

  const value: SourceDocument<'email'> = {
    document: parts.join('\n\n'),
    document_type: 'email',
    document_id: id,
    metadata,
  };
  const created = isoDate(email.date);
  if (created) value.document_created_at = created;
  return value;
}

/** The bytes with every CRLF as LF. */
function lfLineEnds(raw: Uint8Array): Uint8Array {
  if (!raw.includes(0x0d)) return raw;
  const out = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0d && raw[i + 1] === 0x0a) continue;
    out[n++] = raw[i]!;
  }
  return out.subarray(0, n);
}
