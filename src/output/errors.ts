import { EndpointMissingError, SynapError, unreachedHost } from '../client/errors.js';
import { CliError, ExitCode, StoppedEarlyError, UsageError, InterruptedError } from '../errors.js';
import { flushNotices } from './notices.js';
import { redactSecrets } from '../redact.js';

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
function describeError(err: unknown): ErrorReport {
  if (err instanceof CliError) {
    return {
      code: codeOf(err),
      message: redactSecrets(err.message),
      // A request that never reached a server has no server-side trace to quote.
      correlation_id: unreachedHost(err.cause) ? null : (err.correlationId ?? null),
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
 * The error on stderr: one line with the message; when a server answered, its status and code
 * and the correlation id; then hints; with --verbose, the stack of an unexpected error.
 */
export function printError(err: unknown, opts: { verbose?: boolean } = {}): void {
  flushNotices();
  const report = describeError(err);
  const unreached = unreachedHost(err instanceof Error ? err.cause : undefined);
  // An interruption is what the user asked for, not a failure.
  const lines = [
    err instanceof InterruptedError
      ? `synap: ${report.message}`
      : `synap: error: ${report.message}`,
  ];
  const answered =
    err instanceof SynapError && err.status !== undefined && !(err instanceof EndpointMissingError)
      ? `HTTP ${err.status} ${report.code}`
      : undefined;
  const cid = report.correlation_id && `correlation id: ${report.correlation_id}`;
  const trace = [answered, cid].filter(Boolean).join(', ');
  if (trace) lines.push(`  ${trace}`);
  for (const hint of report.hints) lines.push(`  ${hint}`);
  if (unreached) {
    lines.push(`  No server answered at ${unreached}; check the base URL and the network.`);
  }
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
