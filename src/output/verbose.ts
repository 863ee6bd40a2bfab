import type { RequestEvent } from '../client/client.js';
import { notify } from './notices.js';
import { redactSecrets } from '../redact.js';

/** `synap: http GET /api/v1/memories?page=2 200 35ms server=4.2ms cid=… attempt=1` */
export function formatRequestLine(e: RequestEvent): string {
  const status = e.status === undefined ? (e.error ?? 'no response') : String(e.status);
  const parts = [
    'synap: http',
    e.method.toUpperCase(),
    e.path,
    status,
    `${Math.round(e.ms)}ms`,
    ...(e.serverMs !== undefined ? [`server=${e.serverMs}ms`] : []),
    `cid=${e.correlationId}`,
    `attempt=${e.attempt}`,
  ];
  if (e.status !== undefined && e.error) parts.push(`(${e.error})`);
  return redactSecrets(parts.join(' '));
}

/**
 * What a session shows of its HTTP attempts: with --verbose every request; without, an attempt
 * that got no answer at all (refused, unknown host, timeout, reset) and is being retried, naming
 * the host, so a run that seems stuck says why. Identical notices are counted, not repeated.
 */
export function requestReporter(opts: {
  verbose: boolean;
  quiet: boolean;
  baseUrl: string;
}): (e: RequestEvent) => void {
  let host = opts.baseUrl;
  try {
    host = new URL(opts.baseUrl).host;
  } catch {
    // keep the URL as given
  }
  return (e) => {
    if (opts.verbose) {
      // On a terminal above the spinner; in logs one plain line each, as scripts grep them.
      if ((process.stderr as NodeJS.WriteStream).isTTY) notify(formatRequestLine(e));
      else process.stderr.write(`${formatRequestLine(e)}\n`);
    } else if (!opts.quiet && e.status === undefined && e.retrying) {
      notify(`synap: warning: no answer from ${host}: ${e.error ?? 'network error'}; retrying`);
    }
  };
}
