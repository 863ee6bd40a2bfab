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
    expect(s.credits).toMatchObject({ documents: 100, exact: true });

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
});
