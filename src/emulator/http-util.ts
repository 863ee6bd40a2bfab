import type { IncomingMessage } from 'node:http';

/** A response the emulator decided on: status, JSON body and extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * An error answer in the shape both parsers read: FastAPI's `detail` (what the SDK parses) plus
 * the documented `code` / `details` (synap-api.md §6.1). `correlation_id` is filled in on send.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Structured `detail` (402, 409); defaults to the message string. */
    readonly detailObject?: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(correlationId: string): Record<string, unknown> {
    return {
      detail: this.detailObject ?? this.message,
      code: this.code,
      correlation_id: correlationId,
      details: this.details,
    };
  }
}

export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Reads the whole request body; rejects with a 413 HttpError above MAX_BODY_BYTES. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) {
        reject(
          new HttpError(
            413,
            'PAYLOAD_TOO_LARGE',
            `request body is larger than ${MAX_BODY_BYTES} bytes`,
          ),
        );
      } else {
        resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      }
    });
    req.on('error', reject);
  });
}

/** Parses a JSON body; malformed JSON is a 400 naming the body. */
export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) {
    throw new HttpError(400, 'INVALID_INPUT', 'request body is empty; expected JSON', {
      field: 'body',
    });
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new HttpError(
      400,
      'INVALID_INPUT',
      `request body is not valid JSON: ${(err as Error).message}`,
      {
        field: 'body',
      },
    );
  }
}

/** Deterministic random source (mulberry32) for faults and jitter when a seed is given. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
