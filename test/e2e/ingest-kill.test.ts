import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, spawnCli } from '../helpers/cli.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';
import { seededRandom } from '../helpers/random.js';

const N = 5_000;
const SEEDS = (process.env.SYNAP_KILL_SEEDS ?? '1,2')
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((s) => Number.isInteger(s));

/**
 * kill -9 at random moments: nothing lost, nothing stored twice. The emulator's own store is
 * the judge, not the tool's counts. SYNAP_KILL_SEEDS=1,2,...,100 runs the long version.
 */
describe('ingest survives kill -9', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let emu: RunningEmulator;
  let env: Record<string, string>;

  // A fresh emulator per seed, so a long soak does not slow down as the store fills up.
  beforeEach(async () => {
    // Unlimited rate, a little latency so a run lasts long enough to be killed several times.
    emu = await startEmulator({ processingDelayMs: 0, latencyMs: 15, failRate: 0.02, seed: 3 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterEach(async () => {
    await emu.close();
  });
  afterAll(() => sandbox.cleanup());

  for (const seed of SEEDS) {
    it(`seed ${seed}: three SIGKILLs after ≥20% progress, then a resume stores each record once`, async () => {
      const random = seededRandom(seed);
      const tag = `kill${seed}`;
      const input = writeChatFile(join(dir, `${tag}.jsonl`), N, tag);
      const docs = () => emu.documents().filter((d) => d.document.startsWith(`User: ${tag} `));
      const args = ['ingest', `${tag}.jsonl`, '--batch-size', '50'];
      // Progress is watched through the cheap stats counter, not a scan of the store.
      const base = emu.stats().documents_stored;
      const storedNow = () => emu.stats().documents_stored - base;
      let watermarks = 0;
      let killed = 0;
      for (let kill = 0; kill < 3; kill++) {
        const stored = storedNow();
        // Kill somewhere between 20% of the input and 60% of what is left beyond that.
        const floor = Math.max(stored, N * 0.2);
        const target = floor + random() * (N - floor) * 0.6;
        const run = spawnCli(args, { env, cwd: dir });
        for (let i = 0; i < 600 && storedNow() < target; i++) {
          await new Promise((res) => setTimeout(res, 10 + random() * 20));
        }
        run.child.kill('SIGKILL');
        const r = await run.done;
        if (r.code === 0) break; // finished before the kill landed; the checks below still hold
        expect(r.signal).toBe('SIGKILL');
        killed += 1;
        const statePath = `${input}.synap-state.json`;
        if (existsSync(statePath)) {
          // Whatever moment the kill hit, the state file is whole JSON (atomic replace).
          const state = JSON.parse(readFileSync(statePath, 'utf8')) as { settled_records: number };
          expect(state.settled_records).toBeGreaterThanOrEqual(watermarks);
          expect(storedNow()).toBeGreaterThanOrEqual(state.settled_records);
          watermarks = state.settled_records;
        }
      }
      // The targets stay below 90% of the input, so the kills land before the end.
      expect(killed).toBeGreaterThanOrEqual(2);
      // The dead run's lock is stale: the resume takes it over.
      const final = await runCli(['--json', ...args], { env, cwd: dir, timeoutMs: 120_000 });
      const once = storedOnce(docs());
      // One line per seed, read by test/soak/kill-soak.js to total a long run.
      console.log(
        `kill soak | seed ${seed}: kills ${killed}, exit ${final.code}, records ${N}, ` +
          `lost ${N - once.distinct}, duplicates ${once.duplicates}`,
      );
      expect(final.code, final.stderr).toBe(0);
      expect(once).toEqual({ distinct: N, duplicates: 0 });
      expect(existsSync(`${input}.synap-state.json`)).toBe(false);
      expect(existsSync(`${input}.synap-lock`)).toBe(false);
      rmSync(input);
    }, 180_000);
  }
});
