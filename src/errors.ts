/**
 * Exit codes of the CLI (docs/exit-codes-and-json.md). Scripts and cron jobs branch on these,
 * so they never change meaning.
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  PARTIAL: 3,
  AUTH: 4,
  STOPPED: 5,
  CREDITS: 6,
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15): like INTERRUPTED, state saved. */
  TERMINATED: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Base of every error the CLI expects to happen. It carries the exit code it maps to and,
 * when a server was involved, the correlation id to quote to support. The runner's `fail()`
 * (src/commands/run.ts) is the one place that turns these into a message and an exit code.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly correlationId: string | undefined;
  /** Extra lines shown under the message (hints: what to do next). */
  readonly hints: string[];

  constructor(
    message: string,
    options: {
      exitCode?: ExitCode;
      correlationId?: string;
      hints?: string[];
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode ?? ExitCode.FAILURE;
    this.correlationId = options.correlationId;
    this.hints = options.hints ?? [];
  }
}

/** Bad flag, bad value, unreadable file, missing key: the user can fix the invocation. */
export class UsageError extends CliError {
  constructor(message: string, options: { hints?: string[]; cause?: unknown } = {}) {
    super(message, { ...options, exitCode: ExitCode.USAGE });
  }
}

/** The run stopped before the end but can be resumed (max-duration, max-errors, retry budget). */
export class StoppedEarlyError extends CliError {
  constructor(message: string, options: { hints?: string[] } = {}) {
    super(message, { ...options, exitCode: ExitCode.STOPPED });
  }
}

/** Ctrl-C (130) or SIGTERM (143): state was saved, re-running resumes. */
export class InterruptedError extends CliError {
  constructor(
    message = 'interrupted',
    options: {
      hints?: string[];
      exitCode?: typeof ExitCode.INTERRUPTED | typeof ExitCode.TERMINATED;
    } = {},
  ) {
    super(message, { ...options, exitCode: options.exitCode ?? ExitCode.INTERRUPTED });
  }
}

/** What an errno code means, in words (the code itself stays beside it for searching). */
export function describeErrno(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const words: Record<string, string> = {
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EIO: 'input/output error',
    ENOENT: 'no such file or directory',
    EISDIR: 'is a directory',
    ENOTDIR: 'a part of the path is not a directory',
    ELOOP: 'it is a symbolic link',
    EEXIST: 'it already exists',
    EFBIG: 'file too large',
    EPIPE: 'the reader closed it',
  };
  if (code && words[code]) return `${words[code]} (${code})`;
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A file (or stdout) that could not be written: one line naming the path and the cause. Exit 5
 * when what was saved lets the same command continue (an ingest's checkpoint, an export to a
 * file), else 1.
 */
export class WriteFailedError extends CliError {
  constructor(
    readonly path: string,
    what: string,
    cause: unknown,
    options: { resumable?: boolean; hints?: string[] } = {},
  ) {
    super(`cannot write ${what} ${path}: ${describeErrno(cause)}`, {
      exitCode: options.resumable ? ExitCode.STOPPED : ExitCode.FAILURE,
      hints: options.hints ?? [],
      cause,
    });
  }
}

/**
 * A command ended by an error after doing part of its work (an ingest stopped by a refused key):
 * `partial` is its result so far, shown before the error; `cause` decides message and exit code.
 */
export class PartialResultError<R = unknown> extends Error {
  constructor(
    readonly partial: R | undefined,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = new.target.name;
  }
}
