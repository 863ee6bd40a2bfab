// Generated inputs for the scenarios, written under a temp dir (never committed).
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temp dir for one bench run; `cleanup()` removes it. */
export function makeWorkDir() {
  const dir = mkdtempSync(join(tmpdir(), 'synap-bench-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function writeLines(path, n, lineOf, header) {
  const out = createWriteStream(path);
  let chunk = header ?? '';
  for (let i = 0; i < n; i++) {
    chunk += lineOf(i);
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return path;
}

/** Chat-transcript-like text of record i (distinct per record, ~110 bytes). */
function chatText(i) {
  return `User: message ${i} about invoice ${i % 977} and the export on floor ${i % 9}.\nAssistant: noted, ticket ${i}.`;
}

/**
 * JSONL for the sending scenarios: every record carries its document_id, so the tool and the
 * baselines send the same payloads and the store can be checked per id.
 */
export function writeSendJsonl(path, n, tag = 'r') {
  return writeLines(
    path,
    n,
    (i) =>
      `${JSON.stringify({
        document_id: `${tag}-${i}`,
        document: chatText(i),
        document_type: 'ai-chat-conversation',
        document_created_at: '2024-03-15T10:30:00Z',
        user_id: `u_${i % 500}`,
        customer_id: `c_${i % 20}`,
        metadata: { channel: 'web', turn: i % 7 },
      })}\n`,
  );
}

/**
 * JSONL for the overhead scenario: half the records bring a document_id, half get one hashed
 * from the mapped request; some carry an extra field. Every user_id has its customer_id, as a
 * B2B instance (the emulator's default) requires.
 */
export function writeOverheadJsonl(path, n) {
  return writeLines(
    path,
    n,
    (i) =>
      `${JSON.stringify({
        ...(i % 2 === 0 ? { document_id: `doc-${i}` } : {}),
        document: chatText(i),
        document_type: 'ai-chat-conversation',
        document_created_at: '2024-03-15T10:30:00Z',
        user_id: `u_${i % 1000}`,
        customer_id: i % 3 === 0 ? 'acme' : `c_${i % 40}`,
        metadata: { channel: 'web', turn: i % 7 },
        ...(i % 5 === 0 ? { ticket: `T-${i}` } : {}),
      })}\n`,
  );
}

/**
 * CSV for the overhead scenario: API-named columns, a quoted multi-line document, and two
 * unmapped columns (channel, turn) that go into metadata. Ids are hashed.
 */
export function writeOverheadCsv(path, n) {
  return writeLines(
    path,
    n,
    (i) =>
      `"${chatText(i)}",ai-chat-conversation,2024-03-15T10:30:00Z,u_${i % 1000},c_${i % 40},web,${i % 7}\n`,
    'document,document_type,document_created_at,user_id,customer_id,channel,turn\n',
  );
}
