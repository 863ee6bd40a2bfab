import type { IncomingMessage } from 'node:http';
import type { ErrorFormat } from './faults/table.js';
import { fieldOf, RequestValidationError, type ValidationIssue } from './validate.js';

/** A response the emulator decided on: status, JSON body and extra headers. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface HttpErrorOptions {
  /** The documented `details` object (field names, limits). */
  details?: Record<string, unknown>;
  /** A structured `detail` object (409 and the credit bodies); default: the message string. */
  payload?: Record<string, unknown>;
  /**
   * A credit body (402, credit-stop 429): its fields are what a client acts on, so every format
   * keeps them; nested in `detail` as the credit gate sends them, or at the top level (as the
   * burn service does) with the `error` and `error-object` formats.
   */
  credit?: boolean;
  /** FastAPI validation issues: the array `detail` of a 422. */
  issues?: ValidationIssue[];
  headers?: Record<string, string>;
}

/** An error answer; `body()` renders it in the configured error format. */
export class HttpError extends Error {
  readonly headers: Record<string, string>;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    private readonly opts: HttpErrorOptions = {},
  ) {
    super(message);
    this.headers = opts.headers ?? {};
  }

  /** The 422 FastAPI answers when a request model refuses the input. */
  static validation(err: RequestValidationError): HttpError {
    const first = err.issues[0];
    const field = first ? fieldOf(first.loc) : 'body';
    const index = first && first.loc[1] === 'documents' ? first.loc[2] : undefined;
    return new HttpError(422, 'INVALID_INPUT', err.message, {
      details: { field, ...(typeof index === 'number' ? { index } : {}) },
      issues: err.issues,
    });
  }

  body(format: ErrorFormat, correlationId: string): Record<string, unknown> {
    const { code, message } = this;
    const { payload, issues, details = {} } = this.opts;
    if (this.opts.credit && payload) {
      if (format === 'error' || format === 'error-object') return { ...payload };
      if (format !== 'fastapi') return { detail: payload };
    }
    switch (format) {
      case 'fastapi':
        return {
          detail: issues ?? payload ?? message,
          code,
          correlation_id: correlationId,
          details,
        };
      case 'detail':
        return { detail: message };
      case 'detail-array':
        return {
          detail: issues ?? [{ type: code.toLowerCase(), loc: [], msg: message, input: null }],
        };
      case 'detail-object':
        return { detail: { code, message, ...details } };
      case 'error':
        return { error: message, code, details };
      case 'error-object':
        return { error: { code, message } };
    }
  }
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Reads the whole request body; a 413 HttpError above MAX_BODY_BYTES (read to its end all the same). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) {
    const message = `request body is larger than ${MAX_BODY_BYTES} bytes`;
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', message);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** Parses a JSON body as FastAPI does: an empty or malformed body is a 422 naming the body. */
export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) {
    throw new RequestValidationError([
      { type: 'missing', loc: ['body'], msg: 'Field required', input: null },
    ]);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (err) {
    const position = /position (\d+)/.exec((err as Error).message);
    throw new RequestValidationError([
      {
        type: 'json_invalid',
        loc: ['body', position ? Number(position[1]) : 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: (err as Error).message },
      },
    ]);
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
