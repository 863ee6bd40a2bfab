// Scenario 8: `--rate 50%` beside a live application on the same key. The emulator limits the
// key to 600/min, burst 50 (token bucket, with X-RateLimit headers). A second client (in the
// bench process) uses half of it: GET whoami every 200 ms, waiting out Retry-After on a 429.
// Ours ingests with `--rate 50%` at the same time. At the server (batches are ours, whoami the
// other's): our 429s ÷ our requests (≤ 1%), and our accepted rate ÷ half the limit.
import http from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulatorWorker } from '../lib/emulator.js';
import { runSynap, summaryOf } from '../lib/cli.js';
import { writeSendJsonl } from '../lib/inputs.js';
import { countIn, entries, round, span } from '../lib/measure.js';

const RPM = 600;
const BURST = 50;
const BATCH = 10;

/** The other application: `rpm` requests a minute, evenly spaced, honouring Retry-After. */
function otherClient(emu, rpm) {
  const agent = new http.Agent({ keepAlive: true });
  let stop = false;
  const counts = { sent: 0, refused: 0 };
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.get(
        `${emu.url}/api/v1/auth/whoami`,
        { agent, headers: { Authorization: `Bearer ${emu.apiKey}` } },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res));
        },
      );
      req.on('error', reject);
    });
  const done = (async () => {
    let due = performance.now();
    while (!stop) {
      const res = await one();
      counts.sent += 1;
      due += 60_000 / rpm;
      if (res.statusCode === 429) {
        counts.refused += 1;
        due = Math.max(due, performance.now() + Number(res.headers['retry-after'] ?? 1) * 1000);
      }
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
    }
    agent.destroy();
  })();
  return {
    counts,
    async stop() {
      stop = true;
      await done;
    },
  };
}

export async function scenarioRateShare(ctx) {
  const seconds = ctx.quick ? 20 : 60;
  const share = 0.5;
  const requests = Math.round(share * (BURST + (RPM / 60) * seconds));
  const records = requests * BATCH;
  const dir = ctx.dir('s7');
  const file = await writeSendJsonl(join(dir, 'in.jsonl'), records, 's7');
  ctx.note(`scenario 8: --rate 50% of ${RPM}/min beside a client using the other half`);
  const emu = await startEmulatorWorker({ tier: 'pro', rpm: RPM, burst: BURST, seed: 7 });
  try {
    const other = otherClient(emu, RPM * (1 - share));
    await new Promise((r) => setTimeout(r, 2000));
    const run = await runSynap(
      ['--json', 'ingest', file, '--batch-size', String(BATCH), '--rate', '50%'],
      { dir, emu },
    );
    await other.stop();
    const summary = summaryOf(run, 'synap ingest');
    const log = await emu.log();
    const ours = entries(log, 'b');
    const theirs = entries(log, 'o');
    const { first, last } = span(log, ours);
    const o = countIn(log, ours);
    // After the opening (our share of the burst), the steady rate.
    const steady = countIn(log, ours, first + 10_000, last);
    const steadyRate = steady.ok / ((last - first - 10_000) / 60_000);
    const t = countIn(log, theirs, first, last);
    const details = {
      records,
      exit_code: run.code,
      summary: { accepted: summary.accepted, requests: summary.requests },
      ours: {
        requests: o.total,
        accepted: o.ok,
        rate_limited: o.rateLimited,
        elapsed_s: round((last - first) / 1000, 2),
        steady_rpm: round(steadyRate, 1),
      },
      other: {
        ...other.counts,
        during_ours: { requests: t.total, accepted: t.ok, rate_limited: t.rateLimited },
      },
    };
    const refused = o.total ? o.rateLimited / o.total : 1;
    const ofShare = steadyRate / (share * RPM);
    return {
      rows: [
        {
          scenario: '8',
          figure: `--rate 50% beside another client: our 429s ÷ our requests (other client: ${t.rateLimited}/${t.total})`,
          value: round(refused, 4),
          target: '≤ 0.01',
          pass: refused <= 0.01 && run.code === 0 && summary.accepted === records,
        },
        {
          scenario: '8',
          figure: `--rate 50%: our accepted rate after 10 s ÷ half the limit (${round(steadyRate, 1)}/min)`,
          value: round(ofShare, 3),
          target: '≤ 1.02',
          pass: ofShare <= 1.02,
        },
      ],
      details,
    };
  } finally {
    await emu.close();
  }
}
