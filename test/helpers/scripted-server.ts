import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a scripted server received. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What a script answers: a reply, or `undefined` to pass the request on to `forwardTo`. */
export type Reply = {
  status: number;
  body?: unknown;
  /** The body's exact text (instead of `body` serialised). */
  text?: string;
  headers?: Record<string, string>;
};

export interface ScriptedServer {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP server for the answers the emulator does not give (a 403, a 413, an unknown
 * 4xx, a 504), recording every request. A script that returns undefined forwards the request
 * to `forwardTo` (an emulator) and relays its answer, so a test can watch what the CLI sends
 * to a real Synap-compatible server.
 */
export async function startScriptedServer(
  script: (req: SeenRequest, index: number) => Reply | undefined,
  forwardTo?: string,
): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const request: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
      };
      const index = seen.push(request) - 1;
      const reply = script(request, index);
      if (reply) {
        const text = reply.text ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
        res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
        res.end(text);
        return;
      }
      if (!forwardTo) {
        res.writeHead(500).end();
        return;
      }
      const target = new URL(request.url, forwardTo);
      const headers = { ...req.headers, host: target.host };
      const out = http.request(target, { method: request.method, headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The answer whoami gives, for scripted servers that stand in for a whole deployment. */
export const WHOAMI: Reply = {
  status: 200,
  body: { client_id: 'cli_0123456789abcdef', instance_id: 'inst_0123456789abcdef' },
};
