import { SynapError } from '../client/errors.js';
import { CliError, ExitCode, StoppedEarlyError, UsageError, InterruptedError } from '../errors.js';
import { redactSecrets } from './redact.js';

/** An error as the user sees it: in the human lines and in the `--json` error envelope. */
export interface ErrorReport {
  /** A stable word for scripts: the service's code for server errors, else the kind of failure. */
  code: string;
  message: string;
  correlation_id: string | null;
  exit_code: ExitCode;
  hints: string[];
}

function codeOf(err: CliError): string {
  if (err instanceof SynapError) return err.code;
  if (err instanceof UsageError) return 'USAGE';
  if (err instanceof StoppedEarlyError) return 'STOPPED';
  if (err instanceof InterruptedError) return 'INTERRUPTED';
  return 'FAILED';
}

/** What any thrown value means to the user. A value that is not a CliError is a bug: exit 1. */
export function describeError(err: unknown): ErrorReport {
  if (err instanceof CliError) {
    return {
      code: codeOf(err),
      message: redactSecrets(err.message),
      correlation_id: err.correlationId ?? null,
      exit_code: err.exitCode,
      hints: err.hints.map(redactSecrets),
    };
  }
  return {
    code: 'INTERNAL',
    message: redactSecrets(`unexpected error: ${err instanceof Error ? err.message : String(err)}`),
    correlation_id: null,
    exit_code: ExitCode.FAILURE,
    hints: [],
  };
}

/**
 * The error on stderr: one line with the message, the correlation id when a server was
 * involved, then hints; with --verbose, the stack of an unexpected error.
 */
export function printError(err: unknown, opts: { verbose?: boolean } = {}): void {
  const report = describeError(err);
  const lines = [`synap: error: ${report.message}`];
  if (report.correlation_id) lines.push(`  correlation id: ${report.correlation_id}`);
  for (const hint of report.hints) lines.push(`  ${hint}`);
  if (!(err instanceof CliError) && opts.verbose && err instanceof Error && err.stack) {
    lines.push(redactSecrets(err.stack));
  }
  process.stderr.write(lines.join('\n') + '\n');
}

/** The `--json` document of a failed command. */
export function errorEnvelope(err: unknown): {
  status: 'error';
  error: Omit<ErrorReport, 'hints'>;
} {
  const { hints: _hints, ...error } = describeError(err);
  return { status: 'error', error };
}
