import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';
import { storedOnce } from '../helpers/ingest.js';
import { filesBase } from '../../src/ingest/run-files.js';
import { zipOf } from '../helpers/zip-writer.js';

// Archives and folders as inputs: the entries a format claims are read, streamed; hostile
// entries fail alone, naming themselves; resume, shards and the failures file work as for files.

const jsonl = (ids: string[], tag: string) =>
  ids.map((id) => JSON.stringify({ document: `User: ${tag} ${id}`, document_id: id })).join('\n') +
  '\n';

describe('ingest of zip archives and folders', () => {
  const t = emulatorSandbox();
  const dir = t.dir;
  const run = (args: string[]) => runInProcess(args, { env: t.env, cwd: dir, timeoutMs: 60_000 });
  const stored = (prefix: string) =>
    t.emu
      .documents()
      .filter((d) => d.document_id.startsWith(prefix))
      .map((d) => d.document_id)
      .sort();
  const failures = (path: string) =>
    readFileSync(join(dir, path), 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            source: string;
            line: number;
            record: unknown;
            error: { message: string };
          },
      );

  it('reads the entries a format claims, says which, and fails hostile entries alone by name', async () => {
    writeFileSync(
      join(dir, 'mixed.zip'),
      zipOf([
        { name: 'notes/a.jsonl', data: jsonl(['zip-a1', 'zip-a2'], 'a') },
        { name: 'rows.csv', data: 'document,document_id\nUser: row,zip-c1\n' },
        { name: 'readme.rtf', data: 'not records' },
        { name: '__MACOSX/._a.jsonl', data: 'resource fork' },
        { name: '../escape.jsonl', data: jsonl(['zip-evil'], 'evil') },
        { name: 'locked.jsonl', data: jsonl(['zip-locked'], 'locked'), encrypted: true },
        // Headers that claim 4 GB from a few bytes: a zip bomb by its ratio.
        { name: 'bomb.jsonl', data: jsonl(['zip-bomb'], 'bomb'), claimSize: 0xfffffff0 },
        // Headers that claim fewer bytes than the entry holds: cut off where they end.
        { name: 'liar.jsonl', data: jsonl(['zip-liar1', 'zip-liar2'], 'liar'), claimSize: 10 },
        // Entries whose data overlap (the directory points two names at one kernel): a zip
        // bomb whatever the ratio of each.
        { name: 'kernel.jsonl', data: jsonl(['zip-kernel'], 'kernel') },
        { name: 'kernel-again.jsonl', data: '', dataOf: 8 },
        { name: 'z-last.jsonl', data: jsonl(['zip-last'], 'last'), store: true },
      ]),
    );
    const r = await run(['ingest', 'mixed.zip']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(
      'note: mixed.zip: reading notes/a.jsonl (jsonl), rows.csv (csv), liar.jsonl (jsonl), z-last.jsonl (jsonl)',
    );
    expect(r.stderr).toMatch(
      /ignored: readme\.rtf \(no input format claims its name\); __MACOSX\/\._a\.jsonl \(hidden\); refused:/,
    );
    expect(r.stderr).toContain(
      'refused: ../escape.jsonl, locked.jsonl, bomb.jsonl, kernel.jsonl, kernel-again.jsonl',
    );
    // Everything readable is stored, the entry after the hostile ones included.
    expect(stored('zip-')).toEqual(['zip-a1', 'zip-a2', 'zip-c1', 'zip-last']);
    const lines = failures('mixed.zip.failures.jsonl');
    const bySource = (name: string) => lines.find((l) => l.source === `mixed.zip:${name}`);
    expect(bySource('../escape.jsonl')?.error.message).toMatch(
      /unsafe entry name.*outside the archive/,
    );
    expect(bySource('locked.jsonl')?.error.message).toMatch(/encrypted/);
    expect(bySource('bomb.jsonl')?.error.message).toMatch(/inflates \d+ times.*zip bomb/);
    expect(bySource('kernel-again.jsonl')?.error.message).toMatch(
      /its data overlaps kernel\.jsonl's.*zip bomb/,
    );
    expect(bySource('kernel.jsonl')?.error.message).toMatch(/overlaps kernel-again\.jsonl's/);
    expect(lines.some((l) => l.source === 'mixed.zip:liar.jsonl')).toBe(true);
    expect(lines.filter((l) => l.source === 'mixed.zip:liar.jsonl').at(-1)?.error.message).toMatch(
      /could not be read past here/,
    );
    // Each failure names its entry and the line in it.
    expect(bySource('locked.jsonl')?.line).toBe(1);
    expect(
      lines.filter((l) => l.source === 'mixed.zip:liar.jsonl').at(-1)?.line,
    ).toBeLessThanOrEqual(3);
    // The state file went with a finished run; running it again stores nothing new.
    expect(existsSync(join(dir, 'mixed.zip.synap-state.json'))).toBe(false);
    const again = await run(['--json', 'ingest', 'mixed.zip']);
    const result = JSON.parse(again.stdout).result;
    expect(result).toMatchObject({ accepted: 0, skipped: 0, unchanged: 4 });
    expect(result.archives).toEqual([
      {
        source: 'mixed.zip',
        used: [
          { name: 'notes/a.jsonl', format: 'jsonl' },
          { name: 'rows.csv', format: 'csv' },
          { name: 'liar.jsonl', format: 'jsonl' },
          { name: 'z-last.jsonl', format: 'jsonl' },
        ],
        ignored: [
          { name: 'readme.rtf', why: 'no input format claims its name' },
          { name: '__MACOSX/._a.jsonl', why: 'hidden' },
        ],
        refused: [
          { name: '../escape.jsonl', why: expect.stringMatching(/unsafe entry name/) },
          { name: 'locked.jsonl', why: expect.stringMatching(/encrypted/) },
          { name: 'bomb.jsonl', why: expect.stringMatching(/zip bomb/) },
          { name: 'kernel.jsonl', why: expect.stringMatching(/zip bomb/) },
          { name: 'kernel-again.jsonl', why: expect.stringMatching(/zip bomb/) },
        ],
      },
    ]);
    // Its failures file, ingested: an entry that was never read holds no record to send; each
    // line says which entry to fix and ingest again, instead of a bare "got null".
    const retry = await run(['ingest', 'mixed.zip.failures.jsonl']);
    expect(retry.code).toBe(3);
    expect(retry.stderr).toContain(
      'holds no record to send: mixed.zip:locked.jsonl line 1 failed as it was read (not read: the entry is encrypted; extract the archive with its password first); fix it there and ingest that again',
    );
    expect(retry.stderr).not.toContain('got null');
    // An archive that is not one (cut short: no central directory) is a usage error naming it.
    writeFileSync(join(dir, 'cut.zip'), readFileSync(join(dir, 'mixed.zip')).subarray(0, 200));
    const cut = await run(['ingest', 'cut.zip']);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/cannot read cut\.zip as a zip archive/);
  });

  it('an entry name holding terminal control characters is shown escaped, never sent to the terminal', async () => {
    writeFileSync(
      join(dir, 'escapes.zip'),
      zipOf([
        { name: 'ok\u001b[2J\u0007.jsonl', data: `${jsonl(['esc-1'], 'esc')}{not json\n` },
        { name: 'x\u001b]0;owned\u0007\r.rtf', data: 'x' },
      ]),
    );
    const r = await run(['ingest', 'escapes.zip']);
    expect(r.code, r.stderr).toBe(3);
    // No control character but tab and line feed reaches the terminal.
    expect([...r.stderr].filter((c) => /[^\t\n]/.test(c) && c.charCodeAt(0) < 0x20)).toEqual([]);
    expect(r.stderr).not.toMatch(/[\u007f-\u009f]/);
    expect(r.stderr).toContain('reading ok\\u001b[2J\\u0007.jsonl (jsonl)');
    expect(r.stderr).toContain('x\\u001b]0;owned\\u0007\\r.rtf (no input format claims its name)');
    expect(r.stderr).toContain('failed: escapes.zip:ok\\u001b[2J\\u0007.jsonl:2 PARSE_ERROR');
    expect(stored('esc-')).toEqual(['esc-1']);
  });

  it("a failed record's failures line holds the record: retried without the archive", async () => {
    const bad = { document: 'User: late', document_id: 'zipfix-1', document_created_at: 'soon' };
    writeFileSync(
      join(dir, 'fix.zip'),
      zipOf([
        { name: 'ok.jsonl', data: jsonl(['zipfix-0'], 'ok') },
        { name: 'bad.jsonl', data: `${JSON.stringify(bad)}\n` },
      ]),
    );
    expect((await run(['ingest', 'fix.zip'])).code).toBe(3);
    rmSync(join(dir, 'fix.zip'));
    const [line] = failures('fix.zip.failures.jsonl');
    expect(line).toMatchObject({ source: 'fix.zip:bad.jsonl', line: 1, record: bad });
    const fixed = { ...line, record: { ...bad, document_created_at: '2024-05-01T00:00:00Z' } };
    writeFileSync(join(dir, 'fix.failures.jsonl'), `${JSON.stringify(fixed)}\n`);
    const r = await run(['ingest', 'fix.failures.jsonl']);
    expect(r.code, r.stderr).toBe(0);
    expect(stored('zipfix-')).toEqual(['zipfix-0', 'zipfix-1']);
  });

  it("a folder's failed record: its failures line, kept in the state directory, is retried without the folder", async () => {
    const bad = { document: 'User: late', document_id: 'dirfix-1', document_created_at: 'soon' };
    mkdirSync(join(dir, 'fix-dir'));
    writeFileSync(join(dir, 'fix-dir', 'ok.jsonl'), jsonl(['dirfix-0'], 'ok'));
    writeFileSync(join(dir, 'fix-dir', 'bad.jsonl'), `${JSON.stringify(bad)}\n`);
    const r = await run(['--json', 'ingest', 'fix-dir']);
    expect(r.code, r.stderr).toBe(3);
    const [path] = JSON.parse(r.stdout).result.failures_files as string[];
    expect(path!.startsWith(join(dir, 'fix-dir'))).toBe(false);
    rmSync(join(dir, 'fix-dir'), { recursive: true });
    const [line] = readFileSync(path!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(line).toMatchObject({ source: join('fix-dir', 'bad.jsonl'), line: 1, record: bad });
    const fixed = { ...line, record: { ...bad, document_created_at: '2024-05-01T00:00:00Z' } };
    writeFileSync(join(dir, 'dirfix.failures.jsonl'), `${JSON.stringify(fixed)}\n`);
    const again = await run(['ingest', 'dirfix.failures.jsonl']);
    expect(again.code, again.stderr).toBe(0);
    expect(stored('dirfix-')).toEqual(['dirfix-0', 'dirfix-1']);
  });

  /**
   * An emulator whose rate limit (600 a minute, a burst of 5) goes by `clock`, and a promise
   * settled once a document request reaches it: a run on that clock held until then
   * (runOnClock's holdUntil) spends none of its --max-duration on a slow start, so the stop
   * comes part-way however loaded the machine is.
   */
  const clockedEmulator = async (clock: FakeClock) => {
    const emu = await startEmulator({ processingDelayMs: 0, rpm: 600, burst: 5, clock });
    const sent = (e: RunningEmulator) =>
      (e.stats().requests_by_endpoint.batch ?? 0) + (e.stats().requests_by_endpoint.create ?? 0);
    const firstDocument = (async () => {
      while (sent(emu) === 0) await new Promise((r) => setTimeout(r, 2).unref());
    })();
    return { emu, firstDocument };
  };

  it('an interrupted archive resumes where it stopped; two shards split it', async () => {
    const ids = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
    writeFileSync(
      join(dir, 'big.zip'),
      zipOf([
        { name: 'one.jsonl', data: jsonl(ids('zipres-a', 20), 'res') },
        { name: 'two.jsonl', data: jsonl(ids('zipres-b', 280), 'res') },
      ]),
    );
    const clock = new FakeClock(Date.now());
    const { emu, firstDocument } = await clockedEmulator(clock);
    const env = { ...t.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
    const args = ['--json', 'ingest', 'big.zip', '--batch-size', '5'];
    const first = await runOnClock([...args, '--max-duration', '2s'], {
      env,
      cwd: dir,
      clock,
      holdUntil: firstDocument,
    });
    expect(first.code, first.stderr).toBe(5);
    // Stopped inside the second entry (60 batches: 5 at once, then 10 a second of the clock):
    // the resume starts there, not at the archive's start.
    expect(JSON.parse(first.stdout).result.sent).toBeGreaterThan(20);
    expect(existsSync(join(dir, 'big.zip.synap-state.json'))).toBe(true);
    const second = await runOnClock(args, { env, cwd: dir, clock });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).result.resumed_past).toBeGreaterThan(0);
    const docs = emu.documents().filter((d) => d.document_id.startsWith('zipres-'));
    expect(storedOnce(docs)).toEqual({ distinct: 300, duplicates: 0 });
    // Nothing settled by the first run was sent again.
    expect(docs.filter((d) => d.times_received !== 1)).toEqual([]);
    await emu.close();

    writeFileSync(
      join(dir, 'shard.zip'),
      zipOf([{ name: 's.jsonl', data: jsonl(ids('zipsh', 40), 'sh') }]),
    );
    const a = await run(['--json', 'ingest', 'shard.zip', '--shard', '0/2']);
    const b = await run(['--json', 'ingest', 'shard.zip', '--shard', '1/2']);
    expect([a.code, b.code]).toEqual([0, 0]);
    const sa = JSON.parse(a.stdout).result.accepted as number;
    const sb = JSON.parse(b.stdout).result.accepted as number;
    expect(sa + sb).toBe(40);
    expect(sa).toBeGreaterThan(0);
    expect(stored('zipsh')).toHaveLength(40);
  }, 60_000);

  it('an archive or a folder another run is ingesting is not started twice: exit 5 naming it, nothing sent', async () => {
    const holder = JSON.stringify({
      pid: 4242,
      host: 'other-host',
      profile: 'default',
      started_at: '2026-01-01T00:00:00.000Z',
    });
    writeFileSync(
      join(dir, 'held.zip'),
      zipOf([{ name: 'h.jsonl', data: jsonl(['held-z'], 'h') }]),
    );
    writeFileSync(join(dir, 'held.zip.synap-lock'), holder);
    const z = await run(['ingest', 'held.zip']);
    expect(z.code, z.stderr).toBe(5);
    expect(z.stderr).toMatch(/pid 4242 on other-host.*not starting a second one/);
    // A folder's files are locked one by one, in the state directory (never in the folder).
    mkdirSync(join(dir, 'held-dir'));
    writeFileSync(join(dir, 'held-dir', 'a.jsonl'), jsonl(['held-d'], 'd'));
    const { base } = await filesBase(join(dir, 'held-dir', 'a.jsonl'), {
      env: t.env,
      folder: 'held-dir',
    });
    writeFileSync(`${base}.synap-lock`, holder);
    const d = await run(['ingest', 'held-dir']);
    expect(d.code, d.stderr).toBe(5);
    expect(d.stderr).toContain('pid 4242 on other-host');
    expect(stored('held-')).toEqual([]);
    // Once the other run is over, the same commands send everything.
    rmSync(join(dir, 'held.zip.synap-lock'));
    rmSync(`${base}.synap-lock`);
    expect((await run(['ingest', 'held.zip'])).code).toBe(0);
    expect((await run(['ingest', 'held-dir'])).code).toBe(0);
    expect(stored('held-')).toEqual(['held-d', 'held-z']);
  });

  it('a damaged archive: an entry whose size or CRC-32 the directory misstates fails alone, naming the entry', async () => {
    const convo = (id: string) => JSON.stringify([{ document: `User: ${id}`, document_id: id }]);
    writeFileSync(
      join(dir, 'damaged.zip'),
      zipOf([
        { name: 'a.jsonl', data: jsonl(['dmg-a'], 'a') },
        // A .json entry is looked at before reading: its lying size must not sink the archive.
        { name: 'lies.json', data: convo('dmg-lies'), claimSize: 10 },
        { name: 'crc.jsonl', data: jsonl(['dmg-crc'], 'c'), claimCrc: 0xdeadbeef },
        { name: 'b.jsonl', data: jsonl(['dmg-b'], 'b') },
      ]),
    );
    const r = await run(['--json', 'ingest', 'damaged.zip']);
    expect(r.code, r.stderr).toBe(3);
    expect(stored('dmg-')).toEqual(['dmg-a', 'dmg-b', 'dmg-crc']);
    const lines = failures('damaged.zip.failures.jsonl');
    expect(lines.map((l) => l.source)).toEqual(['damaged.zip:lies.json', 'damaged.zip:crc.jsonl']);
    expect(lines[0]!.error.message).toMatch(/damaged here\): too many bytes/);
    expect(lines[1]!.error.message).toMatch(/CRC-32/);
    expect(r.stderr).toContain('damaged.zip:crc.jsonl');

    // An app export whose conversations.json is damaged: that entry fails, naming it; the
    // export's other files are not taken for records.
    writeFileSync(
      join(dir, 'damaged-export.zip'),
      zipOf([
        { name: 'conversations.json', data: convo('dmg-export'), claimSize: 10 },
        { name: 'user.json', data: '{"id":"user-1","email":"a@example.com"}' },
        { name: 'message_feedback.json', data: '[{"id":"f1","rating":"thumbsUp"}]' },
      ]),
    );
    const e = await run(['--json', 'ingest', 'damaged-export.zip']);
    expect(e.code, e.stderr).toBe(3);
    expect(failures('damaged-export.zip.failures.jsonl').map((l) => l.source)).toEqual([
      'damaged-export.zip:conversations.json',
    ]);
  });

  it('a notes folder is never written into: interrupted, resumed and sharded, its listing is byte for byte what it was', async () => {
    const vault = join(dir, 'vault-untouched');
    mkdirSync(join(vault, 'journal'), { recursive: true });
    for (let i = 0; i < 24; i++)
      writeFileSync(join(vault, 'journal', `day-${String(i).padStart(2, '0')}.md`), `Day ${i}\n`);
    writeFileSync(join(vault, 'broken.md'), '---\ntitle: [unclosed\n---\nText\n');
    // Every file and folder under `vault`: path, kind, size, bytes, modification time.
    const listing = (): string[] => {
      const out: string[] = [];
      const walk = (at: string, rel: string) => {
        for (const n of readdirSync(at).sort()) {
          const p = join(at, n);
          const st = lstatSync(p);
          const name = `${rel}${n}`;
          if (st.isDirectory()) {
            out.push(`${name}/ ${st.mtimeMs}`);
            walk(p, `${name}/`);
          } else out.push(`${name} ${st.size} ${st.mtimeMs} ${readFileSync(p, 'base64')}`);
        }
      };
      walk(vault, '');
      return out;
    };
    const before = listing();
    // One request a note, 24 notes: 5 at once, then 10 a second of the clock, so the first
    // run's 1 s stops it part-way.
    const clock = new FakeClock(Date.now());
    const { emu: fast, firstDocument } = await clockedEmulator(clock);
    const run = (args: string[], holdUntil?: Promise<unknown>) =>
      runOnClock(args, {
        env: { ...t.env, SYNAP_API_KEY: fast.apiKey, SYNAP_BASE_URL: fast.url },
        cwd: dir,
        timeoutMs: 60_000,
        clock,
        holdUntil,
      });
    const docs = () => fast.documents().filter((d) => d.document_id.startsWith('file:journal/'));
    const first = await run(
      ['--json', 'ingest', 'vault-untouched', '--max-duration', '1s'],
      firstDocument,
    );
    expect(first.code, first.stderr).toBe(5);
    expect(listing()).toEqual(before);
    const second = await run(['--json', 'ingest', 'vault-untouched']);
    expect(second.code, second.stderr).toBe(3);
    expect(listing()).toEqual(before);
    // Where its files went is said once for the folder, not once a note.
    const said = second.stderr.match(/does not write into/g) ?? [];
    expect(said).toHaveLength(1);
    expect(second.stderr).toContain(
      'note: vault-untouched: synap does not write into a folder it reads; the state, lock and failures files of its files are kept in ',
    );
    const result = JSON.parse(second.stdout).result as { failures_files: string[] };
    expect(storedOnce(docs())).toEqual({ distinct: 24, duplicates: 0 });
    expect(JSON.parse(first.stdout).result.accepted).toBeGreaterThan(0);
    // The notes the interrupted run sent are not sent again: the ledger holds a finished note,
    // the note's state one stopped between its record's answer and its end.
    const r1 = JSON.parse(first.stdout).result as { accepted: number };
    const r2 = JSON.parse(second.stdout).result as { sent: number };
    expect(r1.accepted + r2.sent).toBe(24);
    expect(fast.stats().duplicates_refused).toBe(0);
    // The failures file is kept outside the folder, names the note, and can be read again.
    expect(result.failures_files).toHaveLength(1);
    const failuresFile = result.failures_files[0]!;
    expect(failuresFile.startsWith(vault)).toBe(false);
    expect(readFileSync(failuresFile, 'utf8')).toContain('broken.md');
    // Two shards of the folder: each note sent by one of them, and still nothing written in it.
    const a = await run(['--json', 'ingest', 'vault-untouched', '--shard', '0/2', '--resend']);
    const b = await run(['--json', 'ingest', 'vault-untouched', '--shard', '1/2', '--resend']);
    expect([a.code, b.code].sort()).toEqual([0, 3]);
    const sent = (r: { stdout: string }) => JSON.parse(r.stdout).result.skipped as number;
    expect(sent(a) + sent(b)).toBe(24);
    // --shard-report finds the shards' files where they were kept.
    const report = await run(['--json', 'ingest', 'vault-untouched', '--shard-report']);
    const rows = JSON.parse(report.stdout).result as { completed: number; total: number };
    expect([rows.completed, rows.total]).toEqual([50, 50]);
    expect(listing()).toEqual(before);
    await fast.close();
  }, 60_000);

  it('a folder: its files in name order, hidden ones and symlinks out of it skipped', async () => {
    const f = join(dir, 'history');
    mkdirSync(join(f, 'sub'), { recursive: true });
    mkdirSync(join(f, '.cache'), { recursive: true });
    writeFileSync(join(f, 'sub', 'b.jsonl'), jsonl(['dir-b'], 'b'));
    writeFileSync(join(f, 'a.csv'), 'document,document_id\nUser: a,dir-a\n');
    writeFileSync(join(f, '.hidden.jsonl'), jsonl(['dir-hidden'], 'h'));
    writeFileSync(join(f, '.cache', 'c.jsonl'), jsonl(['dir-cache'], 'c'));
    writeFileSync(join(f, 'notes.rtf'), 'free text');
    writeFileSync(join(dir, 'outside.jsonl'), jsonl(['dir-outside'], 'o'));
    symlinkSync(join(dir, 'outside.jsonl'), join(f, 'link-out.jsonl'));
    symlinkSync(join(f, 'sub'), join(f, 'z-loop'));
    // A link to a file of the folder: read once, under the file's own name.
    symlinkSync('a.csv', join(f, 'a-again.csv'));
    const dry = await run(['--json', 'ingest', 'history', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).result.inputs).toEqual([
      join('history', 'a.csv'),
      join('history', 'sub', 'b.jsonl'),
    ]);
    expect(JSON.parse(dry.stdout).result.archives).toEqual([
      {
        source: 'history',
        used: [
          { name: 'a.csv', format: 'csv' },
          { name: 'sub/b.jsonl', format: 'jsonl' },
        ],
        ignored: [
          { name: 'a-again.csv', why: 'a link to a.csv, which is read under its own name' },
          { name: 'notes.rtf', why: 'no input format claims its name' },
        ],
        refused: [],
      },
    ]);
    const r = await run(['ingest', 'history']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'note: history: reading a.csv (csv), sub/b.jsonl (jsonl); ignored: a-again.csv (a link to a.csv, which is read under its own name); notes.rtf (no input format claims its name)',
    );
    expect(stored('dir-')).toEqual(['dir-a', 'dir-b']);
    // A second run: synap's own files beside the inputs are never read as inputs.
    writeFileSync(
      join(f, 'a.csv.failures.jsonl'),
      '{"document":"User: never","document_id":"dir-own"}\n',
    );
    expect((await run(['ingest', 'history'])).code).toBe(0);
    expect(stored('dir-')).toEqual(['dir-a', 'dir-b']);
  });
});
