import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';
import { samplesSandbox } from '../helpers/fixtures/ingest-cli.js';

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

describe('synap ingest against the emulator', () => {
  const { box, dir, run } = samplesSandbox(runInProcess);

  const byId = (id: string) => box.emu.documents().find((d) => d.document_id === id);

  it('ingests the chat transcripts with users, customers and original timestamps; a re-run sends none', async () => {
    const r = await run(['ingest', 'chat-transcripts.jsonl']);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(0);
    const doc = byId('chat-0003');
    expect(doc?.user_id).toBe('u_1002');
    expect(doc?.customer_id).toBe('cust_acme');
    expect(doc?.document_created_at).toBe('2024-02-02T08:45:30Z');
    expect(box.emu.documents().filter((d) => d.document_id.startsWith('chat-'))).toHaveLength(30);

    const again = await run(['--json', 'ingest', 'chat-transcripts.jsonl']);
    expect(again.code, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout).result;
    // The ledger knows the instance holds all 30 as they are: none is sent.
    expect(summary).toMatchObject({ accepted: 0, unchanged: 30, sent: 0, records_read: 30 });
    expect(summary).toMatchObject({ exit_code: 0, failures_files: [], state_files: [] });
    expect(typeof summary.elapsed_s).toBe('number');
    expect(typeof summary.records_per_s).toBe('number');
    // Each figure once.
    for (const gone of ['elapsed_ms', 'records_per_second', 'failures_file', 'state_file']) {
      expect(summary).not.toHaveProperty(gone);
    }
    expect(existsSync(join(dir, 'chat-transcripts.jsonl.synap-state.json'))).toBe(false);
    expect(box.emu.documents().filter((d) => d.document_id.startsWith('chat-'))).toHaveLength(30);
    expect(r.stderr + r.stdout + again.stdout + again.stderr).not.toContain(box.emu.apiKey);
  });

  it('ingests client-scope knowledge-base articles from a JSON array (no user or customer)', async () => {
    const r = await run(['ingest', 'knowledge-base.json']);
    expect(r.code, r.stderr).toBe(0);
    const kb = box.emu.documents().filter((d) => d.document_id.startsWith('kb-'));
    expect(kb).toHaveLength(5);
    for (const d of kb) {
      expect(d.user_id).toBeNull();
      expect(d.customer_id).toBeNull();
    }
  });

  it('maps the support-ticket CSV with --map; unmapped columns go to metadata', async () => {
    const r = await run([
      'ingest',
      'support-tickets.csv',
      '--map',
      'document=body',
      '--map',
      'document_id=ticket_id',
      '--map',
      'user_id=requester_email',
      '--map',
      'customer_id=org',
      '--map',
      'document_created_at=created',
      '--document-type',
      'email',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const t = byId('T-10231');
    expect(t?.document).toContain('Could you re-issue it?');
    expect(t?.document).toContain('\n');
    expect(t).toMatchObject({
      user_id: 'dana@acme.example',
      customer_id: 'cust_acme',
      document_type: 'email',
      document_created_at: '2024-03-04T10:22:00Z',
    });
    expect(t?.metadata).toMatchObject({ subject: 'Invoice in wrong currency', priority: 'normal' });
    expect(byId('T-10233')?.document).toContain('"carefully"');
    expect(box.emu.documents().filter((d) => d.document_id.startsWith('T-'))).toHaveLength(6);
  });

  it('reads stdin and gzip', async () => {
    const text = readFileSync(join(dir, 'chat-transcripts.jsonl'), 'utf8').replaceAll(
      'chat-0',
      'stdin-0',
    );
    const r = await run(['ingest', '-', '--format', 'jsonl'], { input: text });
    expect(r.code, r.stderr).toBe(0);
    expect(box.emu.documents().filter((d) => d.document_id.startsWith('stdin-'))).toHaveLength(30);

    writeFileSync(join(dir, 'gz.jsonl.gz'), gzipSync(text.replaceAll('stdin-0', 'gz-0')));
    const g = await run(['ingest', 'gz.jsonl.gz']);
    expect(g.code, g.stderr).toBe(0);
    expect(box.emu.documents().filter((d) => d.document_id.startsWith('gz-'))).toHaveLength(30);
    // gzip piped through stdin is recognised too (nothing new: same ids).
    const gs = await run(['--json', 'ingest', '-'], {
      input: gzipSync(text.replaceAll('stdin-0', 'gz-0')),
    });
    expect(gs.code, gs.stderr).toBe(0);
    expect(JSON.parse(gs.stdout).result.unchanged).toBe(30);
  });

  it('a cut gzip CSV, from a file and from stdin: the rows before the cut are stored, the cut is one failure', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `cut-${i},row number ${i}\n`).join('');
    const whole = gzipSync(`document_id,document\n${rows}`);
    const cut = whole.subarray(0, Math.floor(whole.length * 0.7));
    writeFileSync(join(dir, 'cut.csv.gz'), cut);
    for (const [args, input] of [
      [['ingest', 'cut.csv.gz'], undefined],
      [['ingest', '-', '--format', 'csv', '--failures', 'cut-stdin.failures.jsonl'], cut],
    ] as const) {
      const r = await run([...args], input ? { input } : {});
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stderr).toMatch(/PARSE_ERROR: corrupt or truncated gzip data/);
      const stored = box.emu.documents().filter((d) => d.document_id.startsWith('cut-')).length;
      expect(stored).toBeGreaterThan(0);
      expect(stored).toBeLessThan(40);
    }
  });

  it('bad records: exit 3, exactly those in the failures file, and the fixed failures file ingests', async () => {
    const r = await run(['ingest', 'with-bad-records.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('with-bad-records.jsonl:2 INVALID_INPUT');
    expect(r.stderr).toContain('with-bad-records.jsonl:4 PARSE_ERROR');
    const path = join(dir, 'with-bad-records.jsonl.failures.jsonl');
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.line)).toEqual([2, 4, 5, 7, 8]);
    for (const l of lines) {
      expect(l).toMatchObject({ source: 'with-bad-records.jsonl' });
      expect(typeof l.error.code).toBe('string');
      expect(typeof l.error.message).toBe('string');
      expect(l).toHaveProperty('correlation_id');
      expect(Number.isNaN(Date.parse(l.at))).toBe(false);
    }
    for (const id of ['ok-1', 'ok-2', 'ok-3', 'ok-4']) expect(byId(id)).toBeDefined();

    // Fix each record in place, as a user would, and ingest the failures file.
    const fixed = lines.map((l) => {
      const rec =
        typeof l.record === 'object' && l.record !== null
          ? { ...l.record }
          : { document_id: 'bad-json' };
      rec.document = `fixed: ${l.error.code} at line ${l.line}`;
      if (rec.document_type === 'fax') rec.document_type = 'document';
      if (rec.document_created_at === 'last Tuesday')
        rec.document_created_at = '2024-05-07T00:00:00Z';
      return JSON.stringify({ ...l, record: rec });
    });
    writeFileSync(path, `${fixed.join('\n')}\n`);
    const again = await run(['ingest', 'with-bad-records.jsonl.failures.jsonl']);
    expect(again.code, again.stderr).toBe(0);
    for (const id of ['bad-missing', 'bad-json', 'bad-type', 'bad-date', 'bad-empty']) {
      expect(byId(id), id).toBeDefined();
    }
  });

  it('--dry-run sends nothing and shows three sample payloads', async () => {
    writeChatFile(join(dir, 'dry.jsonl'), 50, 'dry');
    const before = box.emu.stats().requests_by_endpoint.batch ?? 0;
    const r = await run(['--json', 'ingest', 'dry.jsonl', '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).result;
    // The one request is the pre-flight's whoami: no batch went out (below).
    expect(s).toMatchObject({ dry_run: true, records_read: 50, sent: 50, requests: 1 });
    expect(s.samples).toHaveLength(3);
    expect(s.samples[0].document_id).toMatch(/^sha256-/);
    expect(box.emu.stats().requests_by_endpoint.batch ?? 0).toBe(before);
    expect(existsSync(join(dir, 'dry.jsonl.synap-state.json'))).toBe(false);
  });

  it('refuses to resume with changed options or a changed input; --restart starts over', async () => {
    const input = writeChatFile(join(dir, 'changed.jsonl'), 30, 'changed');
    const statePath = `${input}.synap-state.json`;
    // A saved state of an interrupted run (as the pipeline writes it) after 10 records.
    const first = await run(['--json', 'ingest', 'changed.jsonl', '--dry-run']);
    expect(first.code).toBe(0);
    const state = {
      version: 1,
      kind: 'synap-ingest',
      input: { path: 'changed.jsonl', size: 0, fingerprint: 'x' },
      options_hash: 'old',
      shape: {},
      settled_records: 10,
      watermark_line: 10,
      counts: { read: 10, accepted: 10, skipped: 0, failed: 0 },
      failures_file: null,
      started_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    };
    writeFileSync(statePath, JSON.stringify(state));
    const changedInput = await run(['ingest', 'changed.jsonl']);
    expect(changedInput.code).toBe(2);
    expect(changedInput.stderr).toContain('changed since the interrupted run');
    expect(changedInput.stderr).toContain('--restart');
    expect(changedInput.stderr).not.toContain('records read');

    const restarted = await run(['ingest', 'changed.jsonl', '--restart']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(existsSync(statePath)).toBe(false);
  });

  it('usage errors: bad flags exit 2 without a stack', async () => {
    for (const args of [
      ['ingest', 'chat-transcripts.jsonl', '--batch-size', '500'],
      ['ingest', 'chat-transcripts.jsonl', '--map', 'nonsense'],
      ['ingest', 'chat-transcripts.jsonl', '--max-duration', 'soon'],
      ['ingest', 'no-such-file.jsonl'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });
});
