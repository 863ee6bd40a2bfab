import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A misbehaving Synap server for tests, separate from the emulator (which behaves): each request
 * is recorded and answered by a test-supplied plan — redirects to another origin, absurd
 * Retry-After values, answers that never come, `{}` where a status is expected, error messages
 * that echo the caller's API key. Whatever the plan does not answer gets the well-behaved
 * default: whoami and health as the service answers them, every batch document accepted.
 */

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The bearer token sent, if any. */
  key: string | undefined;
  /** The parsed JSON body, when it is JSON. */
  json: unknown;
}

/** How the server answers one request. */
export type Answer =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'raw'; status: number; text: string; headers?: Record<string, string> }
  /** Accept the request and never answer (the socket stays open until the server closes). */
  | { kind: 'hang' };

export const json = (status: number, body: unknown, headers?: Record<string, string>): Answer => ({
  kind: 'json',
  status,
  body,
  ...(headers ? { headers } : {}),
});

/** A 3xx pointing somewhere else. */
export const redirect = (status: 301 | 302 | 303 | 307 | 308, location: string): Answer => ({
  kind: 'raw',
  status,
  text: '',
  headers: { Location: location },
});

/** A 429 with this Retry-After header, verbatim (an absurd number, a date, garbage). */
export const rateLimited = (retryAfter: string): Answer =>
  json(429, { detail: 'rate limit exceeded' }, { 'Retry-After': retryAfter });

export const hang = (): Answer => ({ kind: 'hang' });

/** A batch answer: every document accepted, each with its own ingestion id. */
export function acceptAll(req: RecordedRequest): Answer {
  const docs = documentsOf(req);
  return json(200, {
    batch_id: `b_${Math.random().toString(16).slice(2)}`,
    total: docs.length,
    succeeded: docs.length,
    failed: 0,
    results: docs.map((d, i) => ({
      ingestion_id: `ing_${i}_${Math.random().toString(16).slice(2)}`,
      document_id: d.document_id ?? null,
      status: 'queued',
      queued_at: new Date().toISOString(),
    })),
  });
}

/**
 * A 200 batch answer whose every item failed with a message quoting the caller's key, as a
 * careless server's error text might ("key synap_… has no access to …").
 */
export function echoKeyInItems(req: RecordedRequest): Answer {
  const docs = documentsOf(req);
  return json(200, {
    batch_id: 'b_echo',
    total: docs.length,
    succeeded: 0,
    failed: docs.length,
    results: docs.map((d) => ({
      ingestion_id: null,
      document_id: d.document_id ?? null,
      status: 'failed',
      queued_at: null,
      error_code: 'INVALID_INPUT',
      error_message: `document refused for key ${req.key ?? '?'} (Authorization: Bearer ${req.key ?? '?'})`,
    })),
  });
}

/** A batch answer accepting every document, its results in reverse order of the documents. */
export function reversedResults(req: RecordedRequest): Answer {
  const answer = acceptAll(req) as Extract<Answer, { kind: 'json' }>;
  const body = answer.body as { results: unknown[] };
  return json(200, { ...body, results: [...body.results].reverse() });
}

/**
 * A batch answer in which `refused(documentId)` documents failed (INVALID_INPUT) and the rest
 * were queued, the results in reverse order of the documents.
 */
export function reorderedWithRefusals(
  req: RecordedRequest,
  refused: (documentId: string) => boolean,
): Answer {
  const docs = documentsOf(req);
  const results = docs.map((d, i) =>
    refused(String(d.document_id))
      ? {
          ingestion_id: null,
          document_id: d.document_id ?? null,
          status: 'failed',
          queued_at: null,
          error_code: 'INVALID_INPUT',
          error_message: `document ${String(d.document_id)} refused`,
        }
      : {
          ingestion_id: `ing_${i}_${Math.random().toString(16).slice(2)}`,
          document_id: d.document_id ?? null,
          status: 'queued',
          queued_at: new Date().toISOString(),
        },
  );
  const failed = results.filter((r) => r.status === 'failed').length;
  return json(200, {
    batch_id: 'b_reordered',
    total: docs.length,
    succeeded: docs.length - failed,
    failed,
    results: results.reverse(),
  });
}

/** A batch answer with results for only the documents `keep` selects (all queued). */
export function partialResults(req: RecordedRequest, keep: (index: number) => boolean): Answer {
  const answer = acceptAll(req) as Extract<Answer, { kind: 'json' }>;
  const body = answer.body as { results: unknown[] };
  const results = body.results.filter((_r, i) => keep(i));
  return json(200, { ...body, succeeded: results.length, results });
}

/**
 * A batch answer whose items do not say they succeeded: `item(i)` replaces the result of
 * document i (e.g. `{status: 'error'}`, `{}`, a result without a status).
 */
export function itemsLike(req: RecordedRequest, item: (index: number) => unknown): Answer {
  const docs = documentsOf(req);
  return json(200, {
    batch_id: 'b_items',
    total: docs.length,
    succeeded: docs.length,
    failed: 0,
    results: docs.map((_d, i) => item(i)),
  });
}

/** A 200 whose body is not JSON (an HTML error page from a proxy, a cut-off body). */
export const notJson = (text = '<html><body>upstream said OK</body></html>'): Answer => ({
  kind: 'raw',
  status: 200,
  text,
  headers: { 'Content-Type': 'text/html' },
});

/** The documents of a batch request. */
export function documentsOf(req: RecordedRequest): { document_id?: string | null }[] {
  const body = req.json as { documents?: { document_id?: string | null }[] } | undefined;
  return Array.isArray(body?.documents) ? body.documents : [];
}

function wellBehaved(req: RecordedRequest): Answer {
  const path = req.path.split('?')[0]!;
  if (path === '/health') return json(200, { status: 'ok' });
  if (path === '/api/v1/auth/whoami')
    return json(200, { client_id: 'cli_hostile', instance_id: 'inst_hostile' });
  if (path === '/api/v1/memories/batch' && req.method === 'POST') return acceptAll(req);
  return json(404, { detail: 'Not Found' });
}

export interface HostileServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** host:port */
  host: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Requests to the Synap API (not /health). */
  apiRequests(): RecordedRequest[];
  /** Replaces the plan. */
  setPlan(plan: Plan): void;
  close(): Promise<void>;
}

/** Answers a request, or undefined for the well-behaved default. */
export type Plan = (req: RecordedRequest) => Answer | undefined;

/** Starts a hostile server on loopback (`host`, default 127.0.0.1) on a free port. */
export async function startHostileServer(
  plan: Plan = () => undefined,
  o: { host?: string } = {},
): Promise<HostileServer> {
  let current = plan;
  const requests: RecordedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = body === '' ? undefined : JSON.parse(body);
      } catch {
        parsed = undefined;
      }
      const auth = req.headers.authorization;
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body,
        key: auth?.startsWith('Bearer ') ? auth.slice(7) : undefined,
        json: parsed,
      };
      requests.push(rec);
      const answer = current(rec) ?? wellBehaved(rec);
      if (answer.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      const text = answer.kind === 'json' ? JSON.stringify(answer.body) : answer.text;
      res.writeHead(answer.status, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(text),
        ...answer.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, o.host ?? '127.0.0.1', resolve));
  const { port, address } = server.address() as AddressInfo;
  const host = `${address}:${port}`;
  return {
    url: `http://${host}`,
    host,
    requests,
    apiRequests: () => requests.filter((r) => r.path.startsWith('/api/')),
    setPlan(p) {
      current = p;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * `plan`, and `reached`: settled the first time the plan answers a request (returns an answer,
 * not undefined). Given to runOnClock as `holdUntil`, the run's clock stands still until the
 * server takes the request it misbehaves on (one it will never answer, say).
 */
export function firstAnswer(plan: Plan): { plan: Plan; reached: Promise<void> } {
  let hit = () => {};
  const reached = new Promise<void>((resolve) => (hit = resolve));
  return {
    plan: (req) => {
      const answer = plan(req);
      if (answer !== undefined) hit();
      return answer;
    },
    reached,
  };
}
