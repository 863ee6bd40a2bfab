import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runOnClock } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';

const N = 2_000;
const BATCH = 20;
/** The fewest requests that can carry N records in batches of BATCH. */
const MINIMUM = Math.ceil(N / BATCH);
const CONCURRENCY = 8;

interface FaultCase {
  name: string;
  faults: EmulatorOptions;
  /** The stats counter that proves the fault was really injected during the run. */
  injected: (s: ReturnType<RunningEmulator['stats']>) => number;
}

// Each case runs against its own emulator with a fixed seed, so a failure replays exactly.
const CASES: FaultCase[] = [
  { name: '10% 503s', faults: { failRate: 0.1 }, injected: (s) => s.faults.failures },
  {
    name: '2% reset after commit',
    faults: { resetRate: 0.02 },
    injected: (s) => s.faults.resets,
  },
  {
    name: 'latency spikes (5% held 1.5 s)',
    faults: { latencyMs: 5, spikeRate: 0.05, spikeMs: 1_500 },
    injected: (s) => s.faults.spikes,
  },
  {
    name: '429 storms (2 s each)',
    faults: { stormRate: 0.01, stormMs: 2_000 },
    injected: (s) => s.faults.storms,
  },
  {
    name: 'all of them at once',
    faults: {
      failRate: 0.1,
      resetRate: 0.02,
      latencyMs: 5,
      spikeRate: 0.05,
      spikeMs: 1_500,
      stormRate: 0.01,
      stormMs: 2_000,
    },
    injected: (s) => s.faults.failures + s.faults.resets + s.faults.spikes + s.faults.storms,
  },
];

/**
 * The fault matrix: for each fault the emulator injects, every input record ends up stored
 * exactly once or in the failures file (never both, never neither), and the tool spends fewer
 * than 1.3 × the minimum number of requests. The emulator's store and counters are the judge.
 */
describe('ingest under injected faults', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  const running: RunningEmulator[] = [];
  afterAll(async () => {
    await Promise.all(running.map((e) => e.close()));
    sandbox.cleanup();
  });

  for (const [index, c] of CASES.entries()) {
    it(`${c.name}: every record stored once or in the failures file, < 1.3 × minimum requests`, async () => {
      // The emulator's latency, spikes and storms and the run's backoff and Retry-After waits
      // go by one clock that moves faster than real time: the same waits, in the same order.
      const clock = new FakeClock(Date.now());
      const emu = await startEmulator({
        processingDelayMs: 0,
        seed: 11 + index,
        ...c.faults,
        clock,
      });
      running.push(emu);
      const env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
      const tag = `fault${index}`;
      const input = writeChatFile(join(dir, `${tag}.jsonl`), N, tag);

      const args = ['--json', 'ingest', `${tag}.jsonl`, '--batch-size', String(BATCH)];
      const r = await runOnClock([...args, '--concurrency', String(CONCURRENCY)], {
        env,
        cwd: dir,
        timeoutMs: 120_000,
        clock,
      });
      const stats = emu.stats();
      expect(c.injected(stats), 'the fault was injected').toBeGreaterThan(0);
      expect(r.code === 0 || r.code === 3, r.stderr).toBe(true);
      // Nothing is sent once the client has heard a Retry-After that is still running. The
      // emulator also counts requests that were already on the wire when a storm began (it
      // cannot tell them apart), and at most CONCURRENCY - 1 can be: the bound below.
      expect(stats.early_requests).toBeLessThanOrEqual(stats.faults.storms * (CONCURRENCY - 1));

      // Per input line: how many times the store holds it, and whether it was reported failed.
      const stored = new Map<number, number>();
      for (const d of emu.documents()) {
        const m = /^User: \S+ message (\d+) /.exec(d.document);
        if (m) stored.set(Number(m[1]), (stored.get(Number(m[1])) ?? 0) + 1);
      }
      const failuresPath = `${input}.failures.jsonl`;
      const failed = new Set(
        existsSync(failuresPath)
          ? readFileSync(failuresPath, 'utf8')
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => (JSON.parse(l) as { line: number }).line - 1)
          : [],
      );
      const problems: string[] = [];
      for (let i = 0; i < N; i++) {
        const times = stored.get(i) ?? 0;
        if (times > 1) problems.push(`record ${i} stored ${times} times`);
        else if (times === 1 && failed.has(i)) problems.push(`record ${i} stored and failed`);
        else if (times === 0 && !failed.has(i)) problems.push(`record ${i} lost`);
      }
      expect(problems.slice(0, 10)).toEqual([]);

      const summary = JSON.parse(r.stdout).result as {
        accepted: number;
        skipped: number;
        failed: number;
        elapsed_s: number;
      };
      // A write whose reply was lost comes back on retry as "already ingested" (skipped).
      expect(summary.accepted + summary.skipped + summary.failed).toBe(N);
      expect(summary.failed).toBe(failed.size);

      const requests =
        (stats.requests_by_endpoint.batch ?? 0) + (stats.requests_by_endpoint.create ?? 0);
      const ratio = requests / MINIMUM;
      console.log(
        `fault matrix | ${c.name}: ${requests} requests / ${MINIMUM} minimum = ${ratio.toFixed(3)}` +
          ` (injected ${c.injected(stats)}, failed ${summary.failed}, ${summary.elapsed_s} s)`,
      );
      expect(ratio).toBeLessThan(1.3);
    }, 150_000);
  }
});
