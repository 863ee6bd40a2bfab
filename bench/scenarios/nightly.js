// Scenario 10: the second night. A finished ingest of a 1,000,000-record JSONL file is run
// again: the ledger (src/ledger/) says the instance holds every record as it is, so nothing is
// sent, and what that costs is reading, mapping and one ledger lookup a record.
//
// Judged: the second run sends 0 requests (counted at the emulator: no batch arrives) and its
// CPU (user + system) ÷ the CPU of a dry run of the same file ≤ 1.5. The dry run is the one
// without the ledger (`--dry-run --resend`: read, map, validate), so the ratio is the price of
// the ledger over merely reading the file. Night two finds the file remembered as finished
// (src/ledger/finished.ts: same bytes, options, version, no entry changed) and settles its
// records without a lookup each. Information: the same night two with that memory removed
// first (every record mapped, hashed and looked up: what a night costs after any ledger entry
// changed), the dry run with the ledger (what a user's `--dry-run` costs on night two), the
// ledger's lookup cost per record measured on its own (in this process, the tool's Ledger
// class over the file the first night left, ids in random order as a file's are to the
// ledger's key order), and its size on disk per million documents. Medians of 3 (1 with
// --quick).
//
// BENCH_NIGHTLY_RECORDS overrides the size (a busy machine); the table says which was used.
// BENCH_NIGHTLY_COMPARE=path/to/other/bin/synap.js also runs night two with that build in each
// repeat, against the same ledger (side by side: its ratio over the same dry runs, as info).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runSynap, summaryOf } from '../lib/cli.js';
import { startEmulatorWorker } from '../lib/emulator.js';
import { writeOverheadJsonl } from '../lib/inputs.js';
import { median, round } from '../lib/measure.js';

const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;

function sizeOf(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Requests the emulator has answered so far: batches (documents sent) and all of them. */
async function requestCounts(emu) {
  const by = (await emu.stats()).requests_by_endpoint ?? {};
  return { batch: by.batch ?? 0, all: Object.values(by).reduce((a, b) => a + b, 0) };
}

export async function scenarioNightly(ctx) {
  const n = Number(process.env.BENCH_NIGHTLY_RECORDS) || (ctx.quick ? 200_000 : 1_000_000);
  const repeats = ctx.quick ? 1 : 3;
  const dir = ctx.dir('s9');
  const file = join(dir, 'chats.jsonl');
  ctx.note(`scenario 10: generating ${n} records`);
  await writeOverheadJsonl(file, n);
  const emu = await startEmulatorWorker({ tier: 'unlimited' });
  try {
    ctx.note('scenario 10: night one (every record sent)');
    const first = await runSynap(['--json', 'ingest', file], { dir, emu, timeoutMs: 1_800_000 });
    const f = summaryOf(first, 'synap ingest (night one)');
    if (first.code !== 0 || f.accepted !== n) {
      throw new Error(`night one: exit ${first.code}, ${f.accepted} accepted of ${n}`);
    }
    const ledgerPath = join(dir, 'home', '.local', 'state', 'synap', 'ledger.sqlite');
    const ledgerBytes = sizeOf(ledgerPath) + sizeOf(`${ledgerPath}-wal`);

    const dry = [];
    const dryLedger = [];
    const second = [];
    const secondUnremembered = [];
    const Database = (await import('better-sqlite3')).default;
    /** Removes what the ledger remembers of finished inputs (the next run looks up each record). */
    const forgetFinished = () => {
      const db = new Database(ledgerPath);
      db.prepare('DELETE FROM finished_inputs').run();
      db.close();
    };
    const compare = process.env.BENCH_NIGHTLY_COMPARE;
    const secondCompared = [];
    let sentRequests = 0;
    let preflight = 0;
    for (let i = 0; i < repeats; i++) {
      ctx.note(
        `scenario 10: repeat ${i + 1}/${repeats}: dry run, dry run with the ledger, night two`,
      );
      const d = await runSynap(['--json', 'ingest', file, '--dry-run', '--resend'], { dir, emu });
      const ds = summaryOf(d, 'synap ingest --dry-run --resend');
      if (d.code !== 0 || ds.sent !== n) throw new Error(`dry run: exit ${d.code}, ${ds.sent}`);
      dry.push(round(d.cpuMs / 1000, 2));

      const dl = await runSynap(['--json', 'ingest', file, '--dry-run'], { dir, emu });
      const dls = summaryOf(dl, 'synap ingest --dry-run');
      if (dl.code !== 0 || dls.unchanged !== n) {
        throw new Error(`dry run with the ledger: exit ${dl.code}, ${dls.unchanged} unchanged`);
      }
      dryLedger.push(round(dl.cpuMs / 1000, 2));

      const before = await requestCounts(emu);
      const run = await runSynap(['--json', 'ingest', file], { dir, emu });
      const s = summaryOf(run, 'synap ingest (night two)');
      if (run.code !== 0 || s.unchanged !== n || s.sent !== 0) {
        throw new Error(`night two: exit ${run.code}, sent ${s.sent}, unchanged ${s.unchanged}`);
      }
      const after = await requestCounts(emu);
      // Requests that carry documents; the pre-flight (whoami, credits) is reported apart.
      sentRequests += after.batch - before.batch;
      preflight += after.all - before.all - (after.batch - before.batch);
      second.push(round(run.cpuMs / 1000, 2));

      forgetFinished();
      const cold = await runSynap(['--json', 'ingest', file], { dir, emu });
      const cs = summaryOf(cold, 'synap ingest (night two, file not remembered)');
      if (cold.code !== 0 || cs.unchanged !== n || cs.sent !== 0) {
        throw new Error(`night two, not remembered: exit ${cold.code}, sent ${cs.sent}`);
      }
      secondUnremembered.push(round(cold.cpuMs / 1000, 2));

      if (compare) {
        const c = await runSynap(['--json', 'ingest', file], { dir, emu, script: compare });
        const cs = summaryOf(c, `${compare} ingest (night two)`);
        if (c.code !== 0 || cs.sent !== 0) throw new Error(`compared build sent ${cs.sent}`);
        secondCompared.push(round(c.cpuMs / 1000, 2));
      }
    }

    // The lookup alone: every id the first night recorded, asked once, in this process.
    const { Ledger } = await import(dist('ledger/ledger.js'));
    const db = new Database(ledgerPath, { readonly: true });
    const ids = db.prepare('SELECT document_id FROM documents').pluck().all();
    db.close();
    // In key order they would be looked up page after page; a file's ids come in any order.
    let seed = 1;
    for (let i = ids.length - 1; i > 0; i--) {
      seed = (seed * 16807) % 2147483647;
      const j = seed % (i + 1);
      [ids[i], ids[j]] = [ids[j], ids[i]];
    }
    const ledger = Ledger.open(join(dir, 'home', '.local', 'state', 'synap'));
    const instance = ledger.status()[0].instance_id;
    const t0 = performance.now();
    let held = 0;
    for (const id of ids) if (ledger.lookup(instance, id) !== undefined) held += 1;
    const lookupUs = round(((performance.now() - t0) * 1000) / ids.length, 2);
    // As an ingest asks: the ids of each chunk the reader yields (about 250 records) together.
    const t1 = performance.now();
    let heldInOrder = 0;
    for (let at = 0; at < ids.length; at += 250) {
      for (const h of ledger.lookupInOrder(instance, ids.slice(at, at + 250))) {
        if (h !== undefined) heldInOrder += 1;
      }
    }
    const lookupBatchedUs = round(((performance.now() - t1) * 1000) / ids.length, 2);
    if (heldInOrder !== n) throw new Error(`ledger holds ${heldInOrder} of ${n} (in order)`);
    ledger.close();
    if (held !== n) throw new Error(`ledger holds ${held} of ${n}`);

    const ratio = round(median(second) / median(dry), 3);
    const k = (x) => x.toLocaleString('en-US');
    const cpu = `night two ${median(second)} s, dry run ${median(dry)} s`;
    const mbPerMillion = round(((ledgerBytes / n) * 1e6) / 2 ** 20, 1);
    return {
      rows: [
        {
          scenario: '10',
          figure: `night two of a finished ${k(n)}-record file: requests sending documents`,
          value: sentRequests,
          target: '= 0',
          pass: sentRequests === 0,
        },
        {
          scenario: '10',
          figure: `night two CPU ÷ dry run CPU (${cpu}) [${second.join(', ')}] / [${dry.join(', ')}]`,
          value: ratio,
          target: '≤ 1.5',
          pass: ratio <= 1.5,
        },
        {
          scenario: '10',
          figure: `night two with the file not remembered (each record looked up) ÷ dry run (${median(secondUnremembered)} s) [${secondUnremembered.join(', ')}]`,
          value: round(median(secondUnremembered) / median(dry), 3),
          target: 'info',
        },
        {
          scenario: '10',
          figure: 'night two: pre-flight requests per run (whoami, credits)',
          value: round(preflight / repeats, 1),
          target: 'info',
        },
        ...(compare
          ? [
              {
                scenario: '10',
                figure: `night two CPU ÷ dry run CPU of ${compare} (${median(secondCompared)} s) [${secondCompared.join(', ')}]`,
                value: round(median(secondCompared) / median(dry), 3),
                target: 'info',
              },
            ]
          : []),
        {
          scenario: '10',
          figure: `dry run with the ledger ÷ dry run (${median(dryLedger)} s)`,
          value: round(median(dryLedger) / median(dry), 3),
          target: 'info',
        },
        {
          scenario: '10',
          figure: 'ledger lookup per record, µs (Ledger.lookup alone, every id once, random order)',
          value: lookupUs,
          target: 'info',
        },
        {
          scenario: '10',
          figure:
            'ledger lookup per record, µs (Ledger.lookupInOrder, 250 ids a call, random order)',
          value: lookupBatchedUs,
          target: 'info',
        },
        {
          scenario: '10',
          figure: `ledger size per million documents, MiB (${k(ledgerBytes)} bytes for ${k(n)})`,
          value: mbPerMillion,
          target: 'info',
        },
      ],
      records: n,
      night_one_s: round(first.wallMs / 1000, 1),
      dry_cpu_s: dry,
      dry_ledger_cpu_s: dryLedger,
      night_two_cpu_s: second,
      night_two_unremembered_cpu_s: secondUnremembered,
      night_two_compared_cpu_s: secondCompared,
      lookup_us: lookupUs,
      lookup_batched_us: lookupBatchedUs,
      ledger_bytes: ledgerBytes,
    };
  } finally {
    await emu.close();
  }
}
