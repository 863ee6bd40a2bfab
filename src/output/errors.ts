import { EndpointMissingError, SynapError } from '../client/errors.js';
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
      correlation_id: unreachedServer(err) ? null : (err.correlationId ?? null),
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
  const unreached = unreachedServer(err);
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

/**
 * The host a request could not reach (connection refused, unknown host), from the network
 * error under a client error; undefined when a server may have seen the request.
 */
function unreachedServer(err: unknown): string | undefined {
  let cause: unknown = err instanceof Error ? err.cause : undefined;
  // fetch wraps the socket error: TypeError('fetch failed', { cause }).
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++) {
    const e = cause as NodeJS.ErrnoException & {
      address?: string;
      port?: number;
      hostname?: string;
      errors?: unknown[];
    };
    const first = (e.errors?.[0] ?? e) as typeof e;
    const code = e.code ?? first.code;
    if (code === 'ECONNREFUSED') {
      const address = e.address ?? first.address;
      const port = e.port ?? first.port;
      return address ? `${address}${port ? `:${port}` : ''}` : 'the server';
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return e.hostname ?? 'the server';
    cause = e.cause;
  }
  return undefined;
}
