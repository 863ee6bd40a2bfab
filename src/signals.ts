import { ExitCode, InterruptedError } from './errors.js';

/** Shell convention: a run ended by signal N exits 128 + N. */
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;
const STOP_SIGNALS = Object.keys(SIGNAL_EXIT) as StopSignal[];

/** The first stop signal this process received, if any. */
let received: StopSignal | undefined;

interface Watcher {
  controller: AbortController;
  opts: AbortOnSignalsOptions;
}
const watchers = new Set<Watcher>();
/** Listeners other code had on the stop signals, set aside while ours are installed. */
let setAside: Map<StopSignal, ((...args: unknown[]) => void)[]> | undefined;

/**
 * The exit code of a run that stopped on a signal: commands report an interruption as 130;
 * when it was SIGTERM that stopped them (a service manager, `kill`), the process exits 143.
 */
export function exitCodeAfterSignals(code: number): number {
  if (code !== ExitCode.INTERRUPTED || received === undefined) return code;
  return SIGNAL_EXIT[received];
}

/** Aborts `w` with an InterruptedError whose exit code is 130, or 143 for SIGTERM. */
function interrupt(w: Watcher): void {
  const { message = 'interrupted', hints } = w.opts;
  const exitCode = received === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
  w.controller.abort(new InterruptedError(message, { hints, exitCode }));
}

/** How the process ends at once; the entry point (src/cli.ts) provides it. */
let endNow: (code: number) => void = () => {};

/**
 * Sets what a second stop signal does: end the process at once with 130 (143 for SIGTERM).
 * Checkpoints are only ever replaced atomically, so that is safe mid-run.
 */
export function onSecondSignal(end: (code: number) => void): void {
  endNow = end;
}

function onSignal(sig: StopSignal): void {
  if (received !== undefined) return endNow(SIGNAL_EXIT[sig]);
  received = sig;
  for (const w of watchers) interrupt(w);
}

/**
 * While a command can stop cleanly, its handler is the only one on SIGINT and SIGTERM. Other
 * listeners are set aside: atomically (under conf) re-sends any signal it sees to the process
 * as soon as it has run its cleanup, which would kill the process mid-checkpoint. Their
 * cleanups still run, on 'exit'.
 */
function install(): void {
  if (setAside) return;
  setAside = new Map();
  // Ours goes on before the others come off: while a signal has no listener Node stops
  // watching it, and a signal already received but not yet dispatched would be lost.
  for (const sig of STOP_SIGNALS) {
    const others = process.rawListeners(sig) as ((...args: unknown[]) => void)[];
    setAside.set(sig, others);
    process.on(sig, onSignal);
    for (const l of others) process.removeListener(sig, l);
  }
}

function uninstall(): void {
  if (!setAside) return;
  for (const sig of STOP_SIGNALS) {
    for (const l of setAside.get(sig) ?? []) process.on(sig, l);
    process.off(sig, onSignal);
  }
  setAside = undefined;
}

export interface AbortOnSignalsOptions {
  /** Message of the InterruptedError the signal aborts with (default "interrupted"). */
  message?: string;
  hints?: string[];
}

/**
 * Turns the first Ctrl-C or SIGTERM into an abort, so a command can stop cleanly (settle what
 * is in flight, save its checkpoint) instead of dying mid-write; the abort reason is an
 * InterruptedError. A second signal exits at once (130, or 143 for SIGTERM); checkpoints are
 * only ever replaced atomically, so that is safe too. After a first signal the handler stays
 * for good: the command is ending, and a further signal must still exit at once.
 */
export function abortOnSignals(opts: AbortOnSignalsOptions = {}): {
  signal: AbortSignal;
  dispose(): void;
} {
  install();
  const watcher: Watcher = { controller: new AbortController(), opts };
  watchers.add(watcher);
  // Made after the signal (a command's later phase): it starts out aborted.
  if (received !== undefined) interrupt(watcher);
  return {
    signal: watcher.controller.signal,
    dispose() {
      watchers.delete(watcher);
      if (watchers.size === 0 && received === undefined) uninstall();
    },
  };
}
