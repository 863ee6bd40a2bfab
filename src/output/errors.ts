import { CliError, ExitCode, InterruptedError } from '../errors.js';
import { flushNotices } from './progress.js';
import { redactSecrets } from './redact.js';

/**
 * Prints an error on stderr: one line with the message, the correlation id when a server was
 * involved, then hints. With --json a JSON object is written to stdout too, so scripts that
 * parse stdout always get a document.
 */
export function printError(err: unknown, opts: { json?: boolean; verbose?: boolean } = {}): void {
  flushNotices();
  const known = err instanceof CliError;
  const message = redactSecrets(
    known ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
  );
  // A request that never reached a server has no server-side trace to quote.
  const unreached = unreachedServer(err);
  const correlationId = known && !unreached ? err.correlationId : undefined;
  // An interruption is what the user asked for, not a failure.
  const lines = [
    err instanceof InterruptedError ? `synap: ${message}` : `synap: error: ${message}`,
  ];
  if (correlationId) lines.push(`  correlation id: ${correlationId}`);
  if (known) for (const hint of err.hints) lines.push(`  ${redactSecrets(hint)}`);
  if (unreached) {
    lines.push(`  No server answered at ${unreached}; check the base URL and the network.`);
  }
  if (!known && opts.verbose && err instanceof Error && err.stack) {
    lines.push(redactSecrets(err.stack));
  }
  process.stderr.write(lines.join('\n') + '\n');
  if (opts.json) {
    const exitCode = known ? err.exitCode : ExitCode.FAILURE;
    const body: Record<string, unknown> = {
      status: 'error',
      error: {
        message,
        exit_code: exitCode,
        ...(known && 'code' in err && typeof err.code === 'string' ? { code: err.code } : {}),
        ...(correlationId ? { correlation_id: correlationId } : {}),
      },
    };
    process.stdout.write(JSON.stringify(body) + '\n');
  }
}

/**
 * The host a request could not reach (connection refused, unknown host), from the network
 * error under a client error; undefined when a server may have seen the request.
 */
export function unreachedServer(err: unknown): string | undefined {
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
