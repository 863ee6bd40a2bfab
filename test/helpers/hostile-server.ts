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

/**
 * What the server keeps of a batch it answers (see HostileServer.held): the documents its answer
 * says it took (`answered`, the default; nothing when the answer says nothing clear), or every
 * document whatever the answer says (`all`: the server did the work, its answer lost it).
 */
export type Storing = 'answered' | 'all';

/** How the server answers one request. */
export type Answer =
  | {
      kind: 'json';
      status: number;
      body: unknown;
      headers?: Record<string, string>;
      stores?: Storing;
    }
  | {
      kind: 'raw';
      status: number;
      text: string;
      headers?: Record<string, string>;
      stores?: Storing;
    }
  /** Accept the request and never answer (the socket stays open until the server closes). */
  | { kind: 'hang' };

/** `answer`, with the server keeping the batch's documents as `how` says. */
export function storing(answer: Answer, how: Storing): Answer {
  return answer.kind === 'hang' ? answer : { ...answer, stores: how };
}

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
export function documentsOf(
  req: RecordedRequest,
): { document_id?: string | null; document?: string }[] {
  const body = req.json as
    { documents?: { document_id?: string | null; document?: string }[] } | undefined;
  return Array.isArray(body?.documents) ? body.documents : [];
}

/**
 * Which document a stored copy is: its document_id, else its text (the service keeps one memory
 * per document_id, so a repeat of an id is the same document; without one, each send is a copy).
 */
export function documentKey(d: { document_id?: string | null; document?: unknown }): string {
  return typeof d.document_id === 'string' && d.document_id !== ''
    ? `id:${d.document_id}`
    : `text:${String(d.document)}`;
}

/** Item statuses that say a document was taken (as a client must read them). */
const TAKEN = new Set(['queued', 'processing', 'completed', 'partial_success']);

/**
 * The documents of a batch `answer` says were taken: results matched by document_id, a
 * document without one by position.
 */
function takenBy(docs: ReturnType<typeof documentsOf>, answer: Answer): Set<number> {
  const taken = new Set<number>();
  if (answer.kind !== 'json' || answer.status !== 200) return taken;
  const results = (answer.body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) return taken;
  const said = (r: unknown) => {
    const status = (r as { status?: unknown } | null)?.status;
    return typeof status === 'string' && TAKEN.has(status);
  };
  docs.forEach((d, i) => {
    const res =
      typeof d.document_id === 'string'
        ? results.find(
            (r) => (r as { document_id?: unknown } | null)?.document_id === d.document_id,
          )
        : results[i];
    if (said(res)) taken.add(i);
  });
  return taken;
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
  /** Copies of each document the server keeps after its batch answers, by documentKey. */
  readonly held: Map<string, number>;
  /** Documents (documentKey) that an item of a batch answer said were taken. */
  readonly saidTaken: Set<string>;
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
  const held = new Map<string, number>();
  const saidTaken = new Set<string>();
  /** Keeps what a batch answer stores and notes what it says was taken. */
  const keep = (req: RecordedRequest, answer: Answer) => {
    if (answer.kind === 'hang' || req.method !== 'POST') return;
    if (req.path.split('?')[0] !== '/api/v1/memories/batch') return;
    const docs = documentsOf(req);
    const taken = takenBy(docs, answer);
    const how = answer.stores ?? 'answered';
    docs.forEach((d, i) => {
      const key = documentKey(d);
      if (taken.has(i)) saidTaken.add(key);
      if (how === 'answered' && !taken.has(i)) return;
      // One memory per document_id; a document without one is a new copy each time.
      held.set(key, key.startsWith('id:') ? 1 : (held.get(key) ?? 0) + 1);
    });
  };
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
      keep(rec, answer);
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
    held,
    saidTaken,
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
