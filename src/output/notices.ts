import { systemClock, type Clock } from '../clock.js';
import { redactSecrets } from '../redact.js';

/**
 * Notices on stderr (warnings, retries, failures) and how they are laid out: above a running
 * progress indicator when there is one, else on their own line. Kept apart from progress.ts
 * so that printing a warning or an error does not load the spinner library.
 */

/**
 * Control characters (but tab and line feed) as visible escapes (`\u001b`, `\r`): names
 * in these lines come from inputs (an archive's entry, a file in a folder), and one holding an
 * escape sequence or a carriage return must not clear the screen, retitle the terminal or
 * overwrite the line it is on.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
function visible(text: string): string {
  return text.replace(CONTROL, (c) =>
    c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Lines for people on a stream: redacted, control characters shown escaped, prefixed with an
 * ISO time when `timestamps`, and a run of identical lines printed once, then once more with
 * its count when the run ends.
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
    const text = visible(redactSecrets(line));
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
    this.stream.write(`${this.stamp()}${visible(redactSecrets(line))}\n`);
  }

  /** Prints the count of a run of identical lines, if one is pending. */
  flush(): void {
    if (this.repeats === 0 || this.last === undefined) return;
    const times = this.repeats === 1 ? 'once more' : `${this.repeats} more times`;
    this.stream.write(`${this.stamp()}${this.last} (repeated ${times})\n`);
    this.repeats = 0;
  }
}

/** What notices print above: the progress indicator on screen (see progress.ts). */
export interface NoticeTarget {
  log(line: string): void;
}

let active: NoticeTarget | undefined;
let fallback: LineLog | undefined;

/**
 * Marks `target` as the indicator on screen; `undefined` clears it (only when `previous` is
 * the one on screen, so a stopped indicator never clears a newer one).
 */
export function setActiveIndicator(
  target: NoticeTarget | undefined,
  previous?: NoticeTarget,
): void {
  if (target === undefined && previous !== undefined && active !== previous) return;
  active = target;
}

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
