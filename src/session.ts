import { DEFAULT_BASE_URL, checkBaseUrl } from './client/base-url.js';
import { SynapClient } from './client/client.js';
import type { KeySource } from './client/error-hints.js';
import { limiterFor, type RateLimiterOptions } from './client/limiter.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './client/retry-policy.js';
import { checkProfileName, type ProfileDefaults } from './config/settings.js';
import { CONFIG_PROBLEM_HINT, openStore, type ConfigStore } from './config/store.js';
import { UsageError } from './errors.js';
import type { GlobalOptions } from './global-options.js';
import { requestReporter } from './output/verbose.js';

/** queued → completed delay of the `--local` emulator: short, but long enough to see a status change. */
const LOCAL_PROCESSING_DELAY_MS = 500;

export interface Session {
  profile: string;
  /** Normalised base URL without a trailing slash. */
  baseUrl: string;
  /**
   * The instance's address as state files record it: the base URL, or for --local the embedded
   * emulator's database, since its port is a new one on every run and its store is the same.
   */
  stateUrl: string;
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
  /** What the user should know about this session (shown by the output layer, never the key). */
  warnings: string[];
  /** Releases what the session holds (the --local emulator). Safe to call twice. */
  close(): Promise<void>;
}

/** How the key's limiter is capped: ingest and migrate `--rate`, and one of n shards. */
type LimiterCaps = Pick<RateLimiterOptions, 'maxRpm' | 'rateShare' | 'peers'>;

export interface OpenSessionOptions extends LimiterCaps {
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
  /** Use this base URL instead of --base-url's (auth login trying another host). */
  baseUrl?: string;
  /** How calls are retried (default DEFAULT_RETRY_POLICY). */
  retry?: RetryPolicy;
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

/** Config problems already told in this process: a run that opens two sessions warns once. */
const toldConfigProblems = new Set<string>();

/**
 * A config that cannot be used (see ConfigStore.problem): a warning when the run has a key
 * without it (SYNAP_API_KEY, --local, a key given) or needs none, told once per process;
 * otherwise the usage error that stops it.
 */
function configProblem(
  store: ConfigStore,
  globals: GlobalOptions,
  opts: OpenSessionOptions,
): string | undefined {
  const problem = store.problem;
  if (problem === undefined) return undefined;
  const keyElsewhere =
    globals.local ||
    opts.apiKey !== undefined ||
    (process.env.SYNAP_API_KEY ?? '').trim() !== '' ||
    opts.requireKey === false;
  if (!keyElsewhere) throw new UsageError(problem, { hints: [CONFIG_PROBLEM_HINT] });
  if (toldConfigProblems.has(problem)) return undefined;
  toldConfigProblems.add(problem);
  return `${problem}; going on without it (no stored profile or setting is used)`;
}

/** Where a key came from, for messages that must not show the key. */
function keyOrigin(source: KeySource, profile: string): string {
  if (source === 'env') return 'the API key in SYNAP_API_KEY';
  if (source === 'profile') return `the API key stored for profile "${profile}"`;
  return 'the API key given';
}

/**
 * The key as sent: whitespace around it (a line break or carriage return pasted with it) is
 * trimmed; a space, a control character or a non-ASCII character inside is refused here, with
 * where it is, since no server can accept it and the HTTP layer would fail every request.
 */
function checkedKey(key: string, source: KeySource, profile: string): string {
  const trimmed = key.trim();
  const bad = /[^\x21-\x7e]/.exec(trimmed);
  if (bad) {
    const ch = bad[0];
    const what =
      ch === ' '
        ? 'a space'
        : ch.charCodeAt(0) < 0x20 || (ch.charCodeAt(0) >= 0x7f && ch.charCodeAt(0) < 0xa0)
          ? 'a control character'
          : 'a character that is not plain ASCII';
    throw new UsageError(
      `${keyOrigin(source, profile)} holds ${what} (character ${bad.index + 1} of ${trimmed.length}); ` +
        'a Synap key is one line of printable characters',
      {
        hints: [
          source === 'env'
            ? 'Set SYNAP_API_KEY again from the key as shown in your Synap dashboard.'
            : `Store it again: synap auth login${profile === 'default' ? '' : ` --profile ${profile}`}`,
        ],
      },
    );
  }
  return trimmed;
}

/** The key to use and where it came from (flags > env > profile, or the profile first when named). */
function resolveKey(
  explicitProfile: boolean,
  stored: string | undefined,
  given: string | undefined,
): { apiKey: string | undefined; keySource: KeySource } {
  if (given !== undefined) return { apiKey: given, keySource: 'option' };
  const envKey = process.env.SYNAP_API_KEY || undefined;
  if (stored && (explicitProfile || !envKey)) return { apiKey: stored, keySource: 'profile' };
  if (envKey) return { apiKey: envKey, keySource: 'env' };
  return { apiKey: undefined, keySource: 'none' };
}

/**
 * The composition root of a command: resolves profile, base URL and key (flags > env > profile
 * > defaults), checks them, and builds the one SynapClient the command uses, paced by the key's
 * shared limiter. With --local it starts the embedded emulator first. It prints nothing: what
 * the user should know comes back in `warnings`.
 */
export async function openSession(
  globals: GlobalOptions,
  opts: OpenSessionOptions = {},
): Promise<Session> {
  const explicitProfile = opts.profile !== undefined;
  const profile = checkProfileName(opts.profile ?? globals.profile);
  const store = await openStore();
  const configWarning = configProblem(store, globals, opts);
  const stored = store.getProfile(profile);
  const defaults = store.getDefaults(profile);
  const warnings: string[] = configWarning !== undefined ? [configWarning] : [];

  let apiKey: string | undefined;
  let keySource: KeySource;
  let baseUrl: string;
  let stateUrl: string | undefined;
  let closeEmulator: (() => Promise<void>) | undefined;

  if (globals.local) {
    // Loaded lazily: only --local needs SQLite and the server.
    const { startEmulator, defaultEmulatorDbPath } = await import('./emulator/index.js');
    const db = defaultEmulatorDbPath();
    const emulator = await startEmulator({
      port: 0,
      db,
      tier: 'unlimited',
      processingDelayMs: LOCAL_PROCESSING_DELAY_MS,
    });
    closeEmulator = () => emulator.close();
    baseUrl = emulator.url;
    stateUrl = `local:${db}`;
    apiKey = opts.apiKey ?? emulator.apiKey;
    keySource = opts.apiKey !== undefined ? 'option' : 'local';
  } else {
    const profileUrl = stored.base_url ?? defaults.base_url;
    const chosenUrl =
      opts.baseUrl ??
      (explicitProfile
        ? (profileUrl ?? globals.baseUrl ?? DEFAULT_BASE_URL)
        : (globals.baseUrl ?? profileUrl ?? DEFAULT_BASE_URL));
    baseUrl = checkBaseUrl(chosenUrl).toString().replace(/\/+$/, '');
    ({ apiKey, keySource } = resolveKey(explicitProfile, stored.api_key, opts.apiKey));
    if (apiKey !== undefined) apiKey = checkedKey(apiKey, keySource, profile);
  }

  if (apiKey === undefined || apiKey === '') {
    if (opts.requireKey !== false) {
      await closeEmulator?.();
      throw missingKeyError(profile);
    }
    apiKey = '';
  } else if (keySource !== 'local' && !apiKey.startsWith('synap_')) {
    warnings.push(
      `the API key for profile "${profile}" does not start with "synap_"; is it a Synap key?`,
    );
  }

  const retry = opts.retry ?? DEFAULT_RETRY_POLICY;
  const client = new SynapClient({
    baseUrl,
    apiKey,
    // One pace per key per process: ingest workers, export and migrate sessions share it.
    limiter: limiterFor(baseUrl, apiKey, {
      maxRpm: opts.maxRpm,
      rateShare: opts.rateShare,
      peers: opts.peers,
    }),
    keyOwner: { profile, source: keySource },
    // whoami first, so every request says whose it is (X-Client-ID, X-Instance-ID).
    identify: apiKey !== '',
    retry: { ...retry, maxRetryAfterMs: globals.maxRetryAfterMs ?? retry.maxRetryAfterMs },
    // --verbose: one stderr line per HTTP attempt (never the key); otherwise a notice when a
    // server does not answer and the request is tried again.
    onRequest: requestReporter({ verbose: globals.verbose, quiet: globals.quiet, baseUrl }),
  });

  return {
    profile,
    baseUrl,
    stateUrl: stateUrl ?? baseUrl,
    apiKey,
    keySource,
    client,
    defaults,
    local: globals.local,
    store,
    warnings,
    // The emulator's close() may be called twice.
    close: async () => closeEmulator?.(),
  };
}
