import { redactSecrets } from './redact.js';

/** What the client reports after each HTTP attempt (mirrors client RequestEvent; never the key). */
export interface RequestLine {
  method: string;
  path: string;
  status?: number;
  ms: number;
  correlationId: string;
  attempt: number;
  error?: string;
}

/** `→ GET /api/v1/memories?page=2 200 35ms cid=… attempt 1` */
export function formatRequestLine(e: RequestLine): string {
  const status = e.status === undefined ? (e.error ?? 'no response') : String(e.status);
  const parts = [
    'synap: http',
    e.method.toUpperCase(),
    e.path,
    status,
    `${Math.round(e.ms)}ms`,
    `cid=${e.correlationId}`,
    `attempt=${e.attempt}`,
  ];
  if (e.status !== undefined && e.error) parts.push(`(${e.error})`);
  return redactSecrets(parts.join(' '));
}

/** Prints one request line on stderr (--verbose). */
export function writeRequestLine(
  e: RequestLine,
  stream: NodeJS.WritableStream = process.stderr,
): void {
  stream.write(`${formatRequestLine(e)}\n`);
}
