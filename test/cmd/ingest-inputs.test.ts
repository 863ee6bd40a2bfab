import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';

// Inputs as users have them: pipes, empty files, files without a document field, records
// nested absurdly deep, broken lines to fix and re-ingest, numbers JSON cannot hold.

describe('ingest inputs end to end', () => {
  const t = emulatorSandbox();
  const dir = t.dir;
  const run = (args: string[], timeoutMs = 60_000) =>
    runInProcess(args, { env: t.env, cwd: dir, timeoutMs });
  const byId = (id: string) => t.emu.documents().find((d) => d.document_id === id);
  const batches = () => t.emu.stats().requests_by_endpoint.batch ?? 0;
  const failuresOf = (name: string) =>
    readFileSync(join(dir, `${name}.failures.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { record: unknown; line: number });

  it('a FIFO is opened once and read to its end (no hang, nothing lost)', async () => {
    const fifo = join(dir, 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const ingest = run(['ingest', 'pipe.jsonl'], 30_000);
    // The writer: opening blocks until the CLI opens the pipe for reading.
    const w = await open(fifo, 'w');
    for (let i = 0; i < 30; i++)
      await w.write(`${JSON.stringify({ document: `fifo ${i}`, document_id: `fifo-${i}` })}\n`);
    await w.close();
    const r = await ingest;
    expect(r.code, r.stderr).toBe(0);
    expect(t.emu.documents().filter((d) => d.document_id.startsWith('fifo-'))).toHaveLength(30);
    // A pipe cannot be read again: no state or lock file beside it.
    expect(readdirSync(dir).filter((f) => f.startsWith('pipe.jsonl.'))).toEqual([]);
  }, 40_000);

  it('an empty input is "0 records" with a warning, exit 0', async () => {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    writeFileSync(join(dir, 'header-only.csv'), 'document,user_id\n');
    const r = await run(['ingest', 'empty.jsonl', 'header-only.csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: empty.jsonl: 0 records (the input is empty)');
    expect(r.stderr).toContain('warning: header-only.csv: 0 records (the input is empty)');
    const j = await run(['--json', 'ingest', 'empty.jsonl']);
    expect(JSON.parse(j.stdout).result).toMatchObject({ records_read: 0, exit_code: 0 });
  });

  it('no record has a document → exit 2 before anything is sent, naming fields and the likely one', async () => {
    writeFileSync(
      join(dir, 'tickets.csv'),
      'ticket,title,body\nT-1,Printer,The printer is on fire again\nT-2,VPN,VPN drops every hour\n',
    );
    const before = batches();
    const r = await run(['ingest', 'tickets.csv']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      'no record has a document: the first 2 records of tickets.csv have no "document" field (fields found: ticket, title, body)',
    );
    expect(r.stderr).toContain('--map document=body');
    expect(batches()).toBe(before);
    expect(readdirSync(dir).filter((f) => f.startsWith('tickets.csv.'))).toEqual([]);
    // JSONL with "text", through stdin.
    const s = await runInProcess(['ingest', '-'], {
      env: t.env,
      cwd: dir,
      input: '{"text":"User: hi"}\n{"text":"User: bye"}\n',
    });
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--map document=text');
    // Following the hint works.
    const fixed = await run([
      'ingest',
      'tickets.csv',
      '--map',
      'document=body',
      '--map',
      'document_id=ticket',
    ]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(byId('T-1')?.document).toBe('The printer is on fire again');
  });

  it('a record nested 6,000 deep fails alone (TOO_DEEP); every run goes on past it', async () => {
    const deep = `{"document":"deep","document_id":"deep-2","metadata":${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}}`;
    writeFileSync(
      join(dir, 'deep.jsonl'),
      `{"document":"one","document_id":"deep-1"}\n${deep}\n{"document":"three","document_id":"deep-3"}\n`,
    );
    for (let round = 0; round < 2; round++) {
      const r = await run(['ingest', 'deep.jsonl']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('deep.jsonl:2 TOO_DEEP');
      expect(r.stderr).not.toMatch(/Maximum call stack/);
    }
    expect(byId('deep-1')).toBeDefined();
    expect(byId('deep-3')).toBeDefined();
    expect(byId('deep-2')).toBeUndefined();
    const [f] = failuresOf('deep.jsonl');
    expect(f).toMatchObject({ line: 2, record: deep, error: { code: 'TOO_DEEP' } });
  });

  it('failures keep whole lines; fixed and re-ingested, every record is restored', async () => {
    const long = 'x'.repeat(3000);
    writeFileSync(
      join(dir, 'broken.jsonl'),
      `{"document":"ok","document_id":"b-1"}\n{"document":"${long}","document_id":"b-2",,"user_id":"u","customer_id":"c"}\n`,
    );
    writeFileSync(
      join(dir, 'broken.csv'),
      'document_id,document,priority\nc-1,fine,low\nc-2,"has, comma",high,EXTRA\n',
    );
    writeFileSync(
      join(dir, 'broken.json'),
      '[{"document_id":"j-1","document":"fine"},\n {"document_id":"j-2",\n  "document": "split" "text"}]',
    );
    for (const name of ['broken.jsonl', 'broken.csv', 'broken.json']) {
      const r = await run(['ingest', name]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(3);
    }
    const fixes: [string, (t: string) => string][] = [
      ['broken.jsonl', (t) => t.replace(',,', ',')],
      ['broken.csv', (t) => t.replace(',EXTRA', '')],
      ['broken.json', (t) => t.replace('"split" "text"', '"split text"')],
    ];
    for (const [name, fix] of fixes) {
      const lines = failuresOf(name);
      expect(lines).toHaveLength(1);
      expect(typeof lines[0]!.record).toBe('string');
      const fixed = lines.map((l) => JSON.stringify({ ...l, record: fix(l.record as string) }));
      writeFileSync(join(dir, `${name}.failures.jsonl`), `${fixed.join('\n')}\n`);
      const again = await run(['ingest', `${name}.failures.jsonl`]);
      expect(again.code, `${name}: ${again.stderr}`).toBe(0);
    }
    expect(byId('b-2')).toMatchObject({ document: long, user_id: 'u' });
    expect(byId('c-2')).toMatchObject({ document: 'has, comma', metadata: { priority: 'high' } });
    expect(byId('j-2')).toMatchObject({ document: 'split text' });
  });

  it('numbers JSON cannot hold exactly reach the server as their source text', async () => {
    const line =
      '{"document":"n","document_id":"num-1","metadata":{"order":123456789012345678901234567890,"x":1e400,"ok":2.5}}';
    writeFileSync(join(dir, 'num.jsonl'), `${line}\n`);
    writeFileSync(join(dir, 'num.json'), `[${line.replace('num-1', 'num-2')}]`);
    for (const name of ['num.jsonl', 'num.json']) {
      const r = await run(['ingest', name]);
      expect(r.code, r.stderr).toBe(0);
    }
    for (const id of ['num-1', 'num-2'])
      expect(byId(id)?.metadata).toEqual({
        order: '123456789012345678901234567890',
        x: '1e400',
        ok: 2.5,
      });
    expect(existsSync(join(dir, 'num.json.failures.jsonl'))).toBe(false);
  });
});
