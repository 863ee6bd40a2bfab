import ora, { type Ora } from 'ora';
import { systemClock, type Clock } from '../clock.js';
import { redactSecrets } from './redact.js';

/**
 * A small progress indicator for long operations, on stderr: an ora spinner when stderr is a
 * TTY, otherwise a plain line at most every `intervalMs` (logs and CI stay readable), nothing
 * with --quiet. Commands build their own wording on top (ingest, export); this only draws.
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
  /** Hides the spinner so other lines can be printed cleanly; `resume()` brings it back. */
  pause(): void;
  resume(): void;
  /** Prints a line above the indicator (pauses and resumes around it). */
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

/**
 * Lines for people on a stream: redacted, prefixed with an ISO time when `timestamps`, and a
 * run of identical lines printed once, then once more with its count when the run ends.
 */
export class LineLog {
  private last: string | undefined;
  private repeats = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly opts: { timestamps: boolean; clock?: Clock },
  ) {}

  private stamp(at = (this.opts.clock ?? systemClock).now()): string {
    return this.opts.timestamps ? `${new Date(at).toISOString()} ` : '';
  }

  /** A line that may repeat (failures, warnings, retries): counted when identical to the last. */
  write(line: string): void {
    const text = redactSecrets(line);
    if (text === this.last) {
      this.repeats += 1;
      return;
    }
    this.flush();
    this.last = text;
    this.stream.write(`${this.stamp()}${text}\n`);
  }

  /** A line that is never deduplicated (progress), printed as is. */
  writeUnique(line: string): void {
    this.flush();
    this.stream.write(`${this.stamp()}${redactSecrets(line)}\n`);
  }

  /** Prints the count of a run of identical lines, if one is pending. */
  flush(): void {
    if (this.repeats === 0 || this.last === undefined) return;
    const times = this.repeats === 1 ? 'once more' : `${this.repeats} more times`;
    this.stream.write(`${this.stamp()}${this.last} (repeated ${times})\n`);
    this.repeats = 0;
  }
}

const silent: Progress = {
  start() {},
  update() {},
  pause() {},
  resume() {},
  log() {},
  stop() {},
};

/** The indicator currently on screen, so notices from anywhere print above it (see notify). */
let active: Progress | undefined;
let fallback: LineLog | undefined;

/**
 * Prints a notice on stderr (a retry, a warning): above the running progress indicator when
 * there is one, else on its own line; timestamped and deduplicated in logs like the rest.
 */
export function notify(line: string): void {
  if (active) {
    active.log(line);
    return;
  }
  if (!fallback) {
    const log = new LineLog(process.stderr, {
      timestamps: (process.stderr as NodeJS.WriteStream).isTTY !== true,
    });
    // A count still pending when the process ends is printed with the last words.
    process.once('exit', () => log.flush());
    fallback = log;
  }
  fallback.write(line);
}

/** Prints any pending "repeated N times" count, before a final message such as an error. */
export function flushNotices(): void {
  fallback?.flush();
}

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
      active = tracked;
      inner.start(t);
    },
    stop(finalText) {
      if (active === tracked) active = undefined;
      inner.stop(finalText);
    },
  };
  return tracked;
}

function spinnerProgress(stream: NodeJS.WritableStream, opts: ProgressOptions): Progress {
  const color = opts.color !== false;
  const lines = new LineLog(stream, {
    timestamps: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  let spinner: Ora | undefined;
  let text = '';
  let paused = false;
  const make = () =>
    ora({
      text,
      stream: stream as NodeJS.WriteStream,
      color: color ? 'cyan' : false,
      discardStdin: false,
    });
  return {
    start(t) {
      text = redactSecrets(t);
      spinner?.stop();
      spinner = make().start();
      paused = false;
    },
    update(t) {
      text = redactSecrets(t);
      if (spinner && !paused) spinner.text = text;
    },
    pause() {
      if (spinner && !paused) {
        spinner.stop();
        paused = true;
      }
    },
    resume() {
      if (spinner && paused) {
        spinner = make().start();
        paused = false;
      }
    },
    log(line) {
      const wasRunning = spinner !== undefined && !paused;
      if (wasRunning) spinner?.stop();
      lines.write(line);
      if (wasRunning) spinner = make().start();
    },
    stop(finalText) {
      spinner?.stop();
      spinner = undefined;
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
    pause() {},
    resume() {},
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
