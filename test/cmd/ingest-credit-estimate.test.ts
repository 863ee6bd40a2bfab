import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runInProcess } from '../helpers/in-process.js';
import { emulatorSandbox } from '../helpers/emulator.js';

/** The credit estimate before a run counts the documents the run would send. */
describe('credit estimates count what would be sent', () => {
  const box = emulatorSandbox({ processingDelayMs: 0, tier: 'unlimited', credits: 700 });

  it('a 500-row CSV whose transcripts hold line breaks is estimated at 500 and sent (balance 700)', async () => {
    const rows = ['ticket_id,transcript'];
    for (let i = 0; i < 500; i++) {
      rows.push(`t-${i},"User: order ${i} is late\nAgent: sorry, checking\nUser: thanks"`);
    }
    writeFileSync(join(box.dir, 'tickets.csv'), `${rows.join('\n')}\n`);
    const args = [
      '--json',
      'ingest',
      'tickets.csv',
      '--map',
      'document=transcript',
      '--map',
      'document_id=ticket_id',
    ];
    const r = await runInProcess(args, { env: box.env, cwd: box.dir });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).result;
    expect(s.credits).toMatchObject({ documents: 500 });
    expect(s.accepted).toBe(500);
  });

  it('a night that adds 100 records to 600 already sent is not stopped by an estimate of 700 (balance 200)', async () => {
    const line = (i: number) =>
      `${JSON.stringify({ document: `User: night ${i}`, document_id: `n-${i}` })}\n`;
    const file = join(box.dir, 'nightly.jsonl');
    writeFileSync(file, Array.from({ length: 600 }, (_, i) => line(i)).join(''));
    box.emu.setFaults({ credits: 10_000 });
    expect(
      (await runInProcess(['ingest', 'nightly.jsonl'], { env: box.env, cwd: box.dir })).code,
    ).toBe(0);
    appendFileSync(file, Array.from({ length: 100 }, (_, i) => line(600 + i)).join(''));
    // 200 credits left: enough for the 100 new records, not for the 700 the file holds.
    const balance = await fetch(`${box.emu.url}/v1/credits/balance`, {
      headers: { Authorization: `Bearer ${box.emu.apiKey}` },
    }).then(async (res) => ((await res.json()) as { balance_credits: number }).balance_credits);
    box.emu.setFaults({ credits: 10_000 - balance + 200 });
    const r = await runInProcess(['--json', 'ingest', 'nightly.jsonl'], {
      env: box.env,
      cwd: box.dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout).result;
    expect(s).toMatchObject({ sent: 100, unchanged: 600 });
    // The ledger remembers the 600 finished: the pre-flight estimates the 100 appended (at most:
    // the ledger may hold some of those too).
    expect(s.credits).toMatchObject({ documents: 100, at_most: true });

    // And when even the exact count exceeds the balance, nothing is sent (exit 6).
    appendFileSync(file, Array.from({ length: 300 }, (_, i) => line(700 + i)).join(''));
    const before = box.emu.documents().length;
    const over = await runInProcess(['--json', 'ingest', 'nightly.jsonl'], {
      env: box.env,
      cwd: box.dir,
    });
    expect(over.code, over.stderr).toBe(6);
    expect(JSON.parse(over.stdout).error.message).toMatch(/300 documents/);
    expect(box.emu.documents().length).toBe(before);
  });

  it('a finished file run again is estimated at nothing and not stopped by a low balance; grown, only the new records count', async () => {
    const line = (i: number) =>
      `${JSON.stringify({ document: `User: finished ${i}`, document_id: `f-${i}` })}\n`;
    const file = join(box.dir, 'finished.jsonl');
    writeFileSync(file, Array.from({ length: 80 }, (_, i) => line(i)).join(''));
    box.emu.setFaults({ credits: 10_000 });
    expect(
      (await runInProcess(['ingest', 'finished.jsonl'], { env: box.env, cwd: box.dir })).code,
    ).toBe(0);
    const balance = await fetch(`${box.emu.url}/v1/credits/balance`, {
      headers: { Authorization: `Bearer ${box.emu.apiKey}` },
    }).then(async (res) => ((await res.json()) as { balance_credits: number }).balance_credits);
    // With credits enough and with 20 left (less than the 80 records the file holds), the
    // pre-flight says no estimate: nothing would be sent.
    for (const left of [1_000, 20]) {
      box.emu.setFaults({ credits: 10_000 - balance + left });
      const again = await runInProcess(['ingest', 'finished.jsonl'], {
        env: box.env,
        cwd: box.dir,
      });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).not.toMatch(/estimate/);
      expect(again.stderr).toMatch(/unchanged: 80/);
    }

    appendFileSync(file, Array.from({ length: 10 }, (_, i) => line(80 + i)).join(''));
    const grown = await runInProcess(['ingest', 'finished.jsonl'], { env: box.env, cwd: box.dir });
    expect(grown.code, grown.stderr).toBe(0);
    // The pre-flight's own estimate: the 10 appended records, not the 90 the file holds.
    expect(grown.stderr).toMatch(/estimate 10 credits for at most 10 documents/);
    expect(grown.stderr).not.toMatch(/90 documents/);
  });

  it('the memory of a finished file holds whichever address and profile reach the instance', async () => {
    // Another address of the same instance (as `--local` is each time, on a port of its own):
    // the ledger is the instance's, and the address does not change how records map to bodies.
    const file = join(box.dir, 'addressed.jsonl');
    writeFileSync(
      file,
      Array.from(
        { length: 40 },
        (_, i) => `${JSON.stringify({ document: `User: addressed ${i}` })}\n`,
      ).join(''),
    );
    box.emu.setFaults({ credits: 10_000 });
    const first = await runInProcess(['ingest', 'addressed.jsonl'], { env: box.env, cwd: box.dir });
    expect(first.code, first.stderr).toBe(0);
    const other = { ...box.env, SYNAP_BASE_URL: box.emu.url.replace('127.0.0.1', 'localhost') };
    expect(other.SYNAP_BASE_URL).not.toBe(box.env.SYNAP_BASE_URL);
    const again = await runInProcess(['ingest', 'addressed.jsonl'], { env: other, cwd: box.dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/unchanged: 40/);
    expect(again.stderr).not.toMatch(/estimate/);
  });
});
