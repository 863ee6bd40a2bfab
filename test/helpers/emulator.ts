import http from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import {
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
} from '../../src/emulator/index.js';
import { makeSandbox } from './cli.js';

export interface ApiResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * One HTTP request to an emulator over real loopback HTTP (node:http, no retries), with the
 * emulator's key unless `key` is given (null = no Authorization header).
 */
export function api(
  emu: Pick<RunningEmulator, 'url' | 'apiKey'>,
  method: string,
  path: string,
  opts: {
    body?: unknown;
    rawBody?: string;
    key?: string | null;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiResponse> {
  const url = new URL(path, emu.url);
  const payload = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...opts.headers };
  const key = opts.key === undefined ? emu.apiKey : opts.key;
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the raw text
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** A create body as the official SDK sends it: every key, in its order, with its defaults. */
export function doc(
  document: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    document,
    document_type: 'ai-chat-conversation',
    document_id: null,
    document_created_at: null,
    user_id: null,
    customer_id: null,
    scope: null,
    mode: 'long-range',
    metadata: {},
    ...extra,
  };
}

/** A sandbox with an emulator running, for the tests of one describe block. */
export interface EmulatorSandbox {
  /** The sandbox's directory: the runs' working directory. */
  readonly dir: string;
  /** The emulator (from beforeAll on). */
  readonly emu: RunningEmulator;
  /** The sandbox's environment with the emulator's key and URL (from beforeAll on). */
  readonly env: Record<string, string>;
}

/**
 * A sandbox (see makeSandbox) and an emulator for the describe block that calls it: the
 * emulator starts in beforeAll; afterAll closes it and cleans the sandbox up (which fails the
 * block if a file left there holds an API key).
 */
export function emulatorSandbox(
  options: EmulatorOptions = { processingDelayMs: 0 },
): EmulatorSandbox {
  const sandbox = makeSandbox();
  let emu: RunningEmulator | undefined;
  let env = sandbox.env;
  beforeAll(async () => {
    emu = await startEmulator(options);
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu?.close();
    sandbox.cleanup();
  });
  return {
    dir: sandbox.dir,
    get emu() {
      if (!emu) throw new Error('the emulator starts in beforeAll');
      return emu;
    },
    get env() {
      return env;
    },
  };
}

/**
 * For the describe block that calls it: starts an emulator in beforeAll and hands it to `got`
 * with `sandbox`'s environment pointed at it (key and URL); afterAll closes it and cleans the
 * sandbox up. For tests that keep the emulator in variables of their own (else emulatorSandbox).
 */
export function useEmulator(
  sandbox: ReturnType<typeof makeSandbox>,
  options: EmulatorOptions,
  got: (emu: RunningEmulator, env: Record<string, string>) => void | Promise<void>,
): void {
  let emu: RunningEmulator | undefined;
  beforeAll(async () => {
    emu = await startEmulator(options);
    await got(emu, { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url });
  });
  afterAll(async () => {
    await emu?.close();
    sandbox.cleanup();
  });
}
