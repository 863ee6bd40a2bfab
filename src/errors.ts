/**
 * Exit codes of the CLI (README, "Exit codes"). Scripts and cron jobs branch on these,
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
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Base of every error the CLI expects to happen. It carries the exit code it maps to and,
 * when a server was involved, the correlation id to quote to support. `src/cli.ts` is the one
 * place that turns these into a message and an exit code.
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

/** Ctrl-C or SIGTERM: state was saved, re-running resumes. */
export class InterruptedError extends CliError {
  constructor(message = 'interrupted', options: { hints?: string[] } = {}) {
    super(message, { ...options, exitCode: ExitCode.INTERRUPTED });
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
