import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runShell, type CliRun } from '../helpers/cli.js';
import { emulatorSandbox } from '../helpers/emulator.js';

/*
 * Every `$ ` command of docs/nightly-jobs.md's sh blocks, run as written, in order, against an
 * emulator (the page's first block, which starts one, is what beforeAll does). Each has an entry
 * below saying what it must print; a command without one fails the test, so the page and this
 * file change together.
 */

const PAGE = resolve(import.meta.dirname, '../../docs/nightly-jobs.md');

function pageCommands(): string[] {
  const text = readFileSync(PAGE, 'utf8');
  const out: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const line of block[1]!.split('\n')) {
      if (line.startsWith('$ '))
        out.push(
          line
            .slice(2)
            .replace(/\s+# .*$/, '')
            .trim(),
        );
    }
  }
  return out;
}

const ok = (r: CliRun) => expect(r.code, r.stderr).toBe(0);
const says =
  (...parts: string[]) =>
  (r: CliRun) => {
    ok(r);
    for (const p of parts) expect(r.stderr).toContain(p);
  };

let received = () => 0;
let receivedBefore = 0;
/** The emulator received no document during the command just run (repeats count too). */
const nothingReceived = (_r: CliRun) => expect(received()).toBe(receivedBefore);

const EXPECTED: [string, (r: CliRun) => void][] = [
  [`printf '{"document":"User: my order is late","document_id":"chat-1"}\\n' > chats.jsonl`, ok],
  ['synap ingest chats.jsonl', says('sent: 1', 'accepted: 1')],
  // No document sent; the requests are the pre-flight's (whoami, the credit check).
  ['synap ingest chats.jsonl', (r) => (says('unchanged: 1', 'sent: 0')(r), nothingReceived(r))],
  [`printf '{"document":"User: and the refund?","document_id":"chat-2"}\\n' >> chats.jsonl`, ok],
  ['synap ingest chats.jsonl', says('unchanged: 1', 'sent: 1')],
  ['synap ingest chats.jsonl --dry-run', says('valid (would send): 0')],
  ['synap ingest chats.jsonl --resend', says('sent: 2')],
  ['synap ledger status', (r) => (ok(r), expect(r.stdout).toMatch(/inst_\w+\t2\t0/))],
  ['synap ledger forget chat-2', says('forgot the named documents (1 held)')],
  ['synap ledger forget', says('forgot every document (1 held)')],
  ['synap ledger rebuild', says('2 added')],
  ['synap ingest chats.jsonl', says('unchanged: 2', 'sent: 0')],
  ['synap export -o backup.jsonl', ok],
];

describe('docs/nightly-jobs.md', () => {
  const box = emulatorSandbox();

  it('every example runs as written and does what the page says', async () => {
    expect(pageCommands()).toEqual(EXPECTED.map(([c]) => c));
    received = () => box.emu.documents().reduce((n, d) => n + (d.times_received ?? 1), 0);
    for (const [command, check] of EXPECTED) {
      receivedBefore = received();
      const r = await runShell(command, { env: box.env, cwd: box.dir });
      check(r);
    }
    expect(readFileSync(join(box.dir, 'backup.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});
