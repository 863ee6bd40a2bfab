import { readdirSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { isMainThread } from 'node:worker_threads';
import { vi } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { runEnv, type CliRun } from './cli.js';
import { FakeClock } from './fake-clock.js';
import { assertRunLeaksNothing } from './secrets.js';

/**
 * Runs a synap command in the test process: the real program (src/cli.ts `run`, the same
 * commander program and CommandSpecs the binary runs) with its own environment, captured
 * stdout and stderr, stdin from `input`, and the exit code the binary would exit with. It
 * answers like runCli (test/helpers/cli.ts), so a test moves between the two by its import;
 * use runCli only for what only a process shows (signals, ptys, closed pipes, start-up, the
 * binary's own exit code, kill -9, processes contending for a lock).
 *
 * Each run is isolated from the test process and from the runs before it:
 * - src is imported afresh (vi.resetModules), so no module-level state of src (the limiter
 *   registry, "told once per process" warnings, signal watchers) carries over;
 * - process.env is the run's environment (this process's minus SYNAP_*, plus `env`), and
 *   process.stdout/stderr/stdin are replaced by capturing streams that are not TTYs;
 * - process.exitCode and the listeners on process signals are restored afterwards; a run that
 *   leaves a signal listener or a timer behind fails.
 * Runs are queued one after another, since they swap process-wide properties; vitest runs
 * each test file in a process of its own, so files never share them. A run given no `cwd`
 * that writes into the test process's working directory fails.
 */

export interface InProcessOptions {
  /** Extra environment; the run never inherits the developer's SYNAP_* variables or config. */
  env?: Record<string, string | undefined>;
  /** Read from stdin, then end of input. */
  input?: string | Buffer;
  /**
   * The run's working directory. The process's is changed for the run and changed back:
   * vitest runs each test file in a process of its own (pool 'forks'; in a worker thread
   * process.chdir would fail), and runs are queued, so no other test sees it.
   */
  cwd?: string;
  /**
   * The clock the run's waits go by (retry backoff, Retry-After, rate limiting, polling,
   * --max-duration): it stands in for src/clock.ts's systemClock, which every part that takes
   * a clock falls back to (the summary's elapsed time and the pre-flight's --max-duration read
   * it too). What src reads with Date.now() (doctor's round trip, the ledger's lock wait) stays
   * real.
   */
  clock?: Clock;
  /** The run fails the test when it takes longer (it cannot be killed: it is this process). */
  timeoutMs?: number;
}

// conf writes through `atomically`, whose `when-exit` hooks exit and the signals once per
// process when it is first loaded: loaded here, before any run, those hooks are not a run's.
await import('conf');

/** The process properties a run replaces (process.stdout etc. are getters on process). */
const SWAPPED = ['stdout', 'stderr', 'stdin'] as const;
/** Events whose listeners a run must not leave behind. */
const WATCHED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'exit', 'beforeExit'] as const;

/** A write stream that keeps what is written, shaped like a stdout that is a pipe. */
class Capture extends Writable {
  text = '';
  readonly isTTY = false;
  constructor(readonly fd: number) {
    super({
      decodeStrings: false,
      write: (chunk: string | Buffer, _enc, cb) => {
        this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        cb();
      },
    });
  }
}

function timerCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

type Listener = (...args: unknown[]) => void;

/** The listeners on `event` that were not there `before` (unwrapped from once()). */
function added(event: string, before: readonly unknown[]): Listener[] {
  return process
    .rawListeners(event)
    .filter((l) => !before.includes(l))
    .map((l) => l as Listener);
}

function withTimeout<T>(p: Promise<T>, args: string[], ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`synap ${args.join(' ')}: over ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

let queue: Promise<unknown> = Promise.resolve();

/** Runs `synap ...args` in this process; see the comment at the top of the file. */
export function runInProcess(args: string[], opts: InProcessOptions = {}): Promise<CliRun> {
  const result = queue.then(() => runNow(args, opts));
  queue = result.catch(() => {});
  return result;
}

async function runNow(args: string[], opts: InProcessOptions): Promise<CliRun> {
  const env = runEnv(opts.env);
  const stdout = new Capture(1);
  const stderr = new Capture(2);
  const stdin = Object.assign(
    Readable.from(opts.input === undefined ? [] : [Buffer.from(opts.input)]),
    { isTTY: false, fd: 0 },
  );
  const saved = {
    env: process.env,
    exitCode: process.exitCode,
    descriptors: SWAPPED.map((k) => Object.getOwnPropertyDescriptor(process, k)),
    listeners: WATCHED_EVENTS.map((e) => process.rawListeners(e)),
  };
  const timersBefore = timerCount();
  const home = process.cwd();
  const cwdBefore = new Set(readdirSync(home));
  if (opts.cwd !== undefined) {
    if (!isMainThread) throw new Error('runInProcess with a cwd needs the forks pool');
    process.chdir(opts.cwd);
  }
  process.env = env;
  for (const [k, stream] of [
    ['stdout', stdout],
    ['stderr', stderr],
    ['stdin', stdin],
  ] as const) {
    Object.defineProperty(process, k, { value: stream, configurable: true, writable: true });
  }
  let code = 1;
  const leftBehind: string[] = [];
  try {
    vi.resetModules();
    if (opts.clock) {
      // The freshly imported module, so the swap ends with this run.
      const { systemClock } = await import('../../src/clock.js');
      const clock = opts.clock;
      systemClock.now = () => clock.now();
      systemClock.sleep = (ms, signal) => clock.sleep(ms, signal);
    }
    const cli = await import('../../src/cli.js');
    const signals = await import('../../src/signals.js');
    code = signals.exitCodeAfterSignals(
      await withTimeout(cli.run(['node', 'synap', ...args]), args, opts.timeoutMs ?? 120_000),
    );
    // The process would end here: what the run hooked on 'exit' (a pending "repeated N
    // times" count, a lock's release) runs now, while its streams are still the run's.
    await new Promise((resolve) => setImmediate(resolve));
    for (const l of added('exit', saved.listeners[WATCHED_EVENTS.indexOf('exit')]!)) {
      process.removeListener('exit', l);
      l(code);
    }
  } finally {
    process.chdir(home);
    process.env = saved.env;
    process.exitCode = saved.exitCode;
    SWAPPED.forEach((k, i) => Object.defineProperty(process, k, saved.descriptors[i]!));
    WATCHED_EVENTS.forEach((e, i) => {
      for (const l of added(e, saved.listeners[i]!)) {
        process.removeListener(e, l);
        leftBehind.push(`a listener on '${e}'`);
      }
    });
  }
  const timersAfter = timerCount();
  if (timersAfter > timersBefore) leftBehind.push(`${timersAfter - timersBefore} timer(s)`);
  for (const name of readdirSync(home)) {
    if (!cwdBefore.has(name)) leftBehind.push(`${name} in the working directory (give it a cwd)`);
  }
  const out = { stdout: stdout.text, stderr: stderr.text };
  assertRunLeaksNothing(args, env, out);
  if (leftBehind.length > 0) {
    throw new Error(`synap ${args.join(' ')} left behind ${leftBehind.join(', ')}`);
  }
  return { code, signal: null, ...out };
}

/** A run on a FakeClock (runOnClock), with how long it took on that clock. */
export interface ClockedRun extends CliRun {
  clockMs: number;
}

/**
 * Runs `synap ...args` in this process on a FakeClock that moves, a real millisecond or so
 * apart, to its next sleeper's due time (at most `stepMs`, default 100, at a time) until the
 * run ends: what the run waits for on its clock (Retry-After, backoff, pacing, --max-duration,
 * the grace period, polling) passes up to a hundred times faster than real time, in order.
 * Requests still go over real HTTP, so a server the test starts answers in real time; give it
 * the same clock (startEmulator's `clock`) when its own time matters (rate limits).
 *
 * The clock also moves while the run does real work (reading, a server answering, modules
 * loading), up to a hundred times as fast: a deadline pending on it (--max-duration) can pass
 * before the run gets to what the test is about. `holdUntil` keeps the clock still until it
 * settles (say, when a hostile server takes the request it will never answer).
 */
export async function runOnClock(
  args: string[],
  opts: Omit<InProcessOptions, 'clock'> & {
    clock?: FakeClock;
    stepMs?: number;
    holdUntil?: Promise<unknown>;
  } = {},
): Promise<ClockedRun> {
  const { stepMs = 100, holdUntil, ...rest } = opts;
  // Starting at the real time: what the run reads with Date.now() stays close to its clock.
  const clock = opts.clock ?? new FakeClock(Date.now());
  let done = false;
  let held = holdUntil !== undefined;
  void holdUntil?.finally(() => (held = false)).catch(() => {});
  const started = clock.now();
  const running = runInProcess(args, { ...rest, clock }).finally(() => (done = true));
  while (!done) {
    // Up to the next sleeper, at most stepMs: time moves only as far as a wait of the run
    // (or of a server on the same clock) needs.
    const due = held ? undefined : clock.nextDue();
    if (due !== undefined) await clock.advance(Math.min(stepMs, Math.max(0, due - clock.now())));
    // Unref'd: not one of the timers a run must not leave behind (the harness counts those).
    await new Promise((r) => setTimeout(r, 1).unref());
  }
  const run = await running;
  return { ...run, clockMs: clock.now() - started };
}
