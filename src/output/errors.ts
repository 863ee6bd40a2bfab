import { CliError, ExitCode, InterruptedError } from '../errors.js';
import { redactSecrets } from './redact.js';

/**
 * Prints an error on stderr: one line with the message, the correlation id when a server was
 * involved, then hints. With --json a JSON object is written to stdout too, so scripts that
 * parse stdout always get a document.
 */
export function printError(err: unknown, opts: { json?: boolean; verbose?: boolean } = {}): void {
  const known = err instanceof CliError;
  const message = redactSecrets(
    known ? err.message : `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
  );
  const correlationId = known ? err.correlationId : undefined;
  // An interruption is what the user asked for, not a failure.
  const lines = [
    err instanceof InterruptedError ? `synap: ${message}` : `synap: error: ${message}`,
  ];
  if (correlationId) lines.push(`  correlation id: ${correlationId}`);
  if (known) for (const hint of err.hints) lines.push(`  ${redactSecrets(hint)}`);
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
