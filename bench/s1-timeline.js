// Diagnostic, not part of the table: scenario 1's side-by-side run (ours, the docs loop and
// p-limit(8), each against its own emulator), printing where each sender's time goes from the
// emulator's request log: process start to the first request and to the first batch, the
// burst, the tail, and the server's bucket replayed (tokens wasted by overflowing a full bucket
// before and after the first batch, tokens left unused at the end).
//   node bench/s1-timeline.js [runs] [extra synap global flags]
//   PROBE_BASE=path/bin/synap.js node bench/s1-timeline.js 3   # also an older build, A/B
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { startEmulatorWorker } from './lib/emulator.js';
import { cleanEnv, runNode, runSynap } from './lib/cli.js';
import { writeSendJsonl } from './lib/inputs.js';

const DOCS_LOOP = new URL('./baselines/docs-loop.js', import.meta.url).pathname;
const NAIVE = new URL('./baselines/naive-plimit.js', import.meta.url).pathname;
const reps = Number(process.argv[2] ?? 1);
const extra = process.argv.slice(3);
const dir = mkdtempSync(join(tmpdir(), 's1-timeline-'));
const file = await writeSendJsonl(join(dir, 'backfill.jsonl'), 20000, 's1');
const opts = { tier: 'pro', rpm: 600, burst: 50, seed: 1 };

function view(name, log, run) {
  const t0 = run.startedAt;
  const idx = [...log.arrived.keys()];
  const rel = (t) => (t - t0).toFixed(0);
  const first = idx[0];
  const firstB = idx.find((i) => log.kind[i] === 'b');
  const ok = idx.filter((i) => log.status[i] >= 200 && log.status[i] < 300 && log.kind[i] === 'b');
  const lastEnd = Math.max(...ok.map((i) => log.ended[i]));
  const n429 = idx.filter((i) => log.status[i] === 429).length;
  const others = idx
    .filter((i) => log.kind[i] !== 'b')
    .map((i) => `${rel(log.arrived[i])}-${rel(log.ended[i])}:${log.status[i]}`);
  // Arrivals of the accepted batches, in order (the 50th ends the burst).
  const okArr = ok.map((i) => log.arrived[i]).sort((a, b) => a - b);
  const n = ok.length;
  const lastArr = okArr[n - 1];
  const tail = okArr
    .slice(-4)
    .map((t) => rel(t))
    .join(',');
  console.log(
    `${name.padEnd(6)} total ${rel(lastEnd)}  first-req ${rel(log.arrived[first])} first-batch ${rel(log.arrived[firstB])} ` +
      `50th-ok ${rel(okArr[49])} last-arr ${rel(lastArr)} last-end ${rel(lastEnd)} (last rt ${(lastEnd - lastArr).toFixed(1)}) ` +
      `429s ${n429} reqs ${idx.length} wall ${run.wallMs.toFixed(0)} cpu ${run.cpuMs.toFixed(0)} ` +
      `| other: ${others.join(' ')} | tail arr ${tail} | (last-arr - first-any) ${((lastArr - log.arrived[first]) / 1000).toFixed(3)}`,
  );
  // The server's bucket replayed from the log: tokens left at our last arrival were tokens unused.
  let tokens = 50,
    at = log.arrived[first],
    minTok = 99,
    sumTok = 0,
    k = 0,
    wasteBefore = 0,
    wasteAfter = 0;
  const order = idx.slice().sort((a, b) => log.arrived[a] - log.arrived[b]);
  for (const i of order) {
    const t = log.arrived[i];
    const raw = tokens + (t - at) / 100;
    if (raw > 50) {
      if (t <= log.arrived[firstB]) wasteBefore += raw - 50;
      else wasteAfter += raw - 50;
    }
    tokens = Math.min(50, raw);
    at = t;
    if (log.status[i] === 429) continue;
    tokens -= 1;
    if (t > okArr[49]) {
      minTok = Math.min(minTok, tokens);
      sumTok += tokens;
      k++;
    }
  }
  console.log(
    `       after the burst: server tokens at our arrivals: mean ${(sumTok / k).toFixed(2)} min ${minTok.toFixed(2)}; left at the end ${tokens.toFixed(2)}; tokens overflowed (wasted) up to the first batch ${wasteBefore.toFixed(2)}, after ${wasteAfter.toFixed(2)}`,
  );
  return lastEnd - t0;
}

for (let r = 0; r < reps; r++) {
  const baseBin =
    process.env.PROBE_BASE && new URL('../' + process.env.PROBE_BASE, import.meta.url).pathname; // e.g. .base/bin/synap.js: the build before a change
  const [eo, el, en, eb] = await Promise.all(
    [0, 1, 2, ...(baseBin ? [3] : [])].map(() => startEmulatorWorker(opts)),
  );
  const d = (s) => join(dir, `${s}-${r}`);
  const base = (script, emu, s) =>
    runNode(['--file', file, '--batch-size', '100'], {
      env: cleanEnv(d(s), { SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey }),
      cwd: d(s),
      script,
    });
  const [o, l, n, b] = await Promise.all([
    runSynap(['--json', ...extra, 'ingest', file, '--batch-size', '100'], { dir: d('o'), emu: eo }),
    base(DOCS_LOOP, el, 'l'),
    base(NAIVE, en, 'n'),
    ...(baseBin
      ? [
          runNode(['--json', 'ingest', file, '--batch-size', '100'], {
            env: cleanEnv(d('b'), { SYNAP_BASE_URL: eb.url, SYNAP_API_KEY: eb.apiKey }),
            cwd: d('b'),
            script: baseBin,
          }),
        ]
      : []),
  ]);
  const [lo, ll, ln] = await Promise.all([eo.log(), el.log(), en.log()]);
  const to = view('ours', lo, o);
  const tl = view('loop', ll, l);
  const tn = view('naive', ln, n);
  console.log(`ratios loop ${(tl / to).toFixed(3)} naive ${(tn / to).toFixed(3)}`);
  if (b) {
    const tb = view('before', await eb.log(), b);
    console.log(
      `before: ratios loop ${(tl / tb).toFixed(3)} naive ${(tn / tb).toFixed(3)}; before/ours ${(tb / to).toFixed(3)}`,
    );
    await eb.close();
  }
  if (process.env.PROBE_STDERR) console.log(o.stderr.slice(-6000));
  await Promise.all([eo.close(), el.close(), en.close()]);
}
rmSync(dir, { recursive: true, force: true });
