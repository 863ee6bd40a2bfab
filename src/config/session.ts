import { DEFAULT_BASE_URL, checkBaseUrl } from '../client/base-url.js';
import { SynapClient } from '../client/client.js';
import { AuthenticationError, PermissionDeniedError } from '../client/errors.js';
import { limiterFor } from '../client/limiter.js';
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../global-options.js';
import { warn } from '../output/messages.js';
import { requestReporter } from '../output/verbose.js';
import { checkProfileName, openStore, type ConfigStore, type ProfileDefaults } from './store.js';

export { DEFAULT_BASE_URL };

/** queued → completed delay of the `--local` emulator: short, but long enough to see a status change. */
export const LOCAL_PROCESSING_DELAY_MS = 500;

/** Where the session's key came from; named in auth errors so the user knows what to fix. */
export type KeySource = 'env' | 'profile' | 'local' | 'option' | 'none';

export interface Session {
  profile: string;
  /** Normalised base URL without a trailing slash. */
  baseUrl: string;
  /** The API key. Never print it; use maskKey() for display. Empty when requireKey was false and none was found. */
  apiKey: string;
  keySource: KeySource;
  client: SynapClient;
  /** The profile's stored defaults (batch_size, concurrency, mode, document_type, page_size, base_url). */
  defaults: ProfileDefaults;
  /** True when talking to the in-process emulator started by --local. */
  local: boolean;
  /** The config store the session read from (auth/config commands write through it). */
  store: ConfigStore;
  /** Releases what the session holds (the --local emulator). Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenSessionOptions {
  /**
   * Use this profile instead of --profile/SYNAP_PROFILE (migrate's --from/--to). For an explicit
   * profile its own key and base URL win over SYNAP_API_KEY/SYNAP_BASE_URL/--base-url, which then
   * only fill in what the profile lacks; otherwise two profiles would silently share one key.
   */
  profile?: string;
  /** Default true: no key → UsageError (exit 2) saying how to provide one. */
  requireKey?: boolean;
  /** Use this key instead of resolving one (auth login verifies a key before storing it). */
  apiKey?: string;
  /** Requests per minute the client never exceeds (ingest/migrate `--rate`). */
  maxRpm?: number;
}

function describeSource(source: KeySource): string {
  switch (source) {
    case 'env':
      return 'key from SYNAP_API_KEY';
    case 'profile':
      return 'stored key';
    case 'local':
      return 'local emulator key';
    case 'option':
      return 'key being verified';
    default:
      return 'no key';
  }
}

/**
 * 401/403 from the server: say which profile and which key was refused, and how to replace it.
 * The error object is kept (its class and exit code matter); only its text is extended.
 */
function annotateAuthError(err: unknown, profile: string, source: KeySource): unknown {
  if (!(err instanceof AuthenticationError || err instanceof PermissionDeniedError)) return err;
  const marker = `profile "${profile}"`;
  if (!err.message.includes(marker)) {
    err.message = `${err.message} (${marker}, ${describeSource(source)})`;
    const flag = profile === 'default' ? '' : ` --profile ${profile}`;
    if (source === 'env') {
      err.hints.push('Check SYNAP_API_KEY, or unset it to use the stored key.');
    } else if (source === 'option') {
      // The key being verified by auth login: nothing was stored.
      err.hints.push('Nothing was stored; check the key and the base URL, then try again.');
    } else {
      err.hints.push(`Store a valid key with 'synap auth login${flag}'.`);
    }
  }
  return err;
}

/** Wraps every client method (promises and async iterables) so auth errors name the profile. */
function withAuthContext(client: SynapClient, profile: string, source: KeySource): SynapClient {
  const rethrow = (err: unknown): never => {
    throw annotateAuthError(err, profile, source);
  };
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          return rethrow(err);
        }
        if (result instanceof Promise) return result.catch(rethrow);
        if (result && typeof result === 'object' && Symbol.asyncIterator in result) {
          const iterable = result as AsyncIterable<unknown>;
          return {
            [Symbol.asyncIterator]() {
              const it = iterable[Symbol.asyncIterator]();
              return {
                next: (...a: [] | [unknown]) => it.next(...a).catch(rethrow),
                return: it.return ? (v?: unknown) => it.return!(v).catch(rethrow) : undefined,
              };
            },
          };
        }
        return result;
      };
    },
  });
}

function missingKeyError(profile: string): UsageError {
  const flag = profile === 'default' ? '' : ` --profile ${profile}`;
  return new UsageError(`no API key for profile "${profile}"`, {
    hints: [
      `Set SYNAP_API_KEY, or store a key with 'synap auth login${flag}' (non-interactive: ` +
        `'printf %s "$KEY" | synap auth login${flag} --api-key-stdin').`,
      'To try synap without an account, add --local.',
    ],
  });
}

/**
 * Resolves profile, base URL and key (flags > env > profile > defaults), checks them, and builds
 * the one SynapClient a command uses. With --local it starts the embedded emulator first.
 */
export async function openSession(
  globals: GlobalOptions,
  opts: OpenSessionOptions = {},
): Promise<Session> {
  const explicitProfile = opts.profile !== undefined;
  const profile = checkProfileName(opts.profile ?? globals.profile);
  const store = openStore();
  const stored = store.getProfile(profile);
  const defaults = store.getDefaults(profile);
  const envKey = process.env.SYNAP_API_KEY || undefined;

  let apiKey: string | undefined;
  let keySource: KeySource = 'none';
  let baseUrl: string;
  let closeEmulator: (() => Promise<void>) | undefined;

  if (globals.local) {
    // Loaded lazily: only --local needs SQLite and the server.
    const { startEmulator, defaultEmulatorDbPath } = await import('../emulator/index.js');
    const emulator = await startEmulator({
      port: 0,
      db: defaultEmulatorDbPath(),
      tier: 'unlimited',
      processingDelayMs: LOCAL_PROCESSING_DELAY_MS,
    });
    closeEmulator = () => emulator.close();
    baseUrl = emulator.url;
    apiKey = opts.apiKey ?? emulator.apiKey;
    keySource = opts.apiKey !== undefined ? 'option' : 'local';
  } else {
    const profileUrl = stored.base_url ?? defaults.base_url;
    const chosenUrl = explicitProfile
      ? (profileUrl ?? globals.baseUrl ?? DEFAULT_BASE_URL)
      : (globals.baseUrl ?? profileUrl ?? DEFAULT_BASE_URL);
    baseUrl = checkBaseUrl(chosenUrl).toString().replace(/\/+$/, '');

    if (opts.apiKey !== undefined) {
      apiKey = opts.apiKey;
      keySource = 'option';
    } else {
      const order: [string | undefined, KeySource][] = explicitProfile
        ? [
            [stored.api_key, 'profile'],
            [envKey, 'env'],
          ]
        : [
            [envKey, 'env'],
            [stored.api_key, 'profile'],
          ];
      const found = order.find(([k]) => k !== undefined && k !== '');
      if (found) [apiKey, keySource] = found;
    }
  }

  if (apiKey === undefined || apiKey === '') {
    if (opts.requireKey !== false) {
      await closeEmulator?.();
      throw missingKeyError(profile);
    }
    apiKey = '';
  } else if (keySource !== 'local' && !apiKey.startsWith('synap_')) {
    warn(`the API key for profile "${profile}" does not start with "synap_"; is it a Synap key?`);
  }

  const client = new SynapClient({
    baseUrl,
    apiKey,
    // One pace per key per process: ingest workers, export and migrate sessions share it.
    limiter: limiterFor(baseUrl, apiKey, opts.maxRpm !== undefined ? { maxRpm: opts.maxRpm } : {}),
    onRequest: requestReporter({ verbose: globals.verbose, quiet: globals.quiet, baseUrl }),
  });

  let closed = false;
  return {
    profile,
    baseUrl,
    apiKey,
    keySource,
    client: withAuthContext(client, profile, keySource),
    defaults,
    local: globals.local,
    store,
    async close() {
      if (closed) return;
      closed = true;
      await closeEmulator?.();
    },
  };
}

/** Opens a session, runs `fn`, and always closes the session (stopping a --local emulator). */
export async function withSession<T>(
  globals: GlobalOptions,
  fn: (session: Session) => Promise<T>,
  opts: OpenSessionOptions = {},
): Promise<T> {
  const session = await openSession(globals, opts);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}
