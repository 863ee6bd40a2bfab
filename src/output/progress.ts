import { systemClock, type Clock } from '../clock.js';
import { LiveLine } from './live-line.js';
import { LineLog, setActiveIndicator } from './notices.js';
import { redactSecrets } from '../redact.js';

/**
 * A small progress indicator for long operations, on stderr: a spinner line (live-line.ts)
 * when stderr is a TTY, otherwise a plain line at most every `intervalMs` (logs and CI stay
 * readable), nothing with --quiet. Commands build their own wording on top (ingest, export);
 * this only draws.
 *
 * Lines printed above it (failures, warnings, retries) go through a LineLog: in logs (not a
 * TTY) every line starts with an ISO time, and a line identical to the one before is counted
 * rather than printed again (an outage retried a hundred times is two lines, not a hundred).
 */
export interface Progress {
  /** Shows the indicator with this text. */
  start(text: string): void;
  /** Replaces the text (a TTY spinner redraws; plain mode prints when the interval has passed). */
  update(text: string): void;
  /** Prints a line above the indicator (hides and redraws it around the line). */
  log(line: string): void;
  /** Removes the indicator; `finalText`, if given, is printed as a last line. */
  stop(finalText?: string): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  color?: boolean;
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Overrides TTY detection of the stream. */
  isTTY?: boolean;
  /** Minimum time between plain lines when not on a TTY (default 10 s). */
  intervalMs?: number;
  /** Time source for the plain-line interval and the log times (default: the system clock). */
  clock?: Clock;
}

const silent: Progress = {
  start() {},
  update() {},
  log() {},
  stop() {},
};

export function createProgress(opts: ProgressOptions = {}): Progress {
  if (opts.quiet) return silent;
  const stream = opts.stream ?? process.stderr;
  const tty = opts.isTTY ?? (stream as NodeJS.WriteStream).isTTY === true;
  const inner = tty ? spinnerProgress(stream, opts) : plainProgress(stream, opts);
  // Only the real stderr takes notices from elsewhere.
  if (stream !== process.stderr) return inner;
  const tracked: Progress = {
    ...inner,
    start(t) {
      setActiveIndicator(tracked);
      inner.start(t);
    },
    stop(finalText) {
      setActiveIndicator(undefined, tracked);
      inner.stop(finalText);
    },
  };
  return tracked;
}

function spinnerProgress(stream: NodeJS.WritableStream, opts: ProgressOptions): Progress {
  const lines = new LineLog(stream, { timestamps: false });
  const line = new LiveLine(stream, { color: opts.color !== false });
  let text = '';
  // Started and not stopped.
  let running = false;
  const show = () => {
    if (running) line.show(text);
  };
  return {
    start(t) {
      text = redactSecrets(t);
      running = true;
      show();
    },
    update(t) {
      text = redactSecrets(t);
      line.setText(text);
    },
    log(l) {
      line.hide();
      lines.write(l);
      show();
    },
    stop(finalText) {
      line.hide();
      running = false;
      lines.flush();
      if (finalText !== undefined) stream.write(`${redactSecrets(finalText)}\n`);
    },
  };
}

function plainProgress(stream: NodeJS.WritableStream, opts: ProgressOptions): Progress {
  const clock = opts.clock ?? systemClock;
  const now = () => clock.now();
  const interval = opts.intervalMs ?? 10_000;
  const lines = new LineLog(stream, { timestamps: true, clock });
  let last = -Infinity;
  let running = false;
  const print = (t: string) => {
    lines.writeUnique(t);
    last = now();
  };
  return {
    start(t) {
      running = true;
      print(t);
    },
    update(t) {
      if (!running) return;
      if (now() - last >= interval) print(t);
    },
    log(line) {
      lines.write(line);
    },
    stop(finalText) {
      running = false;
      lines.flush();
      if (finalText !== undefined) print(finalText);
    },
  };
}
