import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import Conf from 'conf';
import envPaths from 'env-paths';
import { checkBaseUrl, withoutCredentials } from '../client/base-url.js';
import { integer } from '../commands/flags.js';
import { UsageError } from '../errors.js';
import {
  DOCUMENT_TYPES,
  MAX_BATCH_SIZE,
  MAX_PAGE_SIZE,
  MODES,
  type DocumentType,
  type Mode,
} from '../client/types.js';

/** Per-profile defaults that `synap config set` manages; a flag or env variable wins over them. */
export interface ProfileDefaults {
  base_url?: string;
  batch_size?: number;
  concurrency?: number;
  mode?: Mode;
  document_type?: DocumentType;
  page_size?: number;
}

/** What one profile holds on disk: its defaults plus the key stored by `synap auth login`. */
export interface StoredProfile extends ProfileDefaults {
  api_key?: string;
}

export type SettingKey = keyof ProfileDefaults;

/** Keys accepted by `config get|set|unset`, in display order. The API key is managed by `auth`. */
export const SETTING_KEYS: readonly SettingKey[] = [
  'base_url',
  'batch_size',
  'concurrency',
  'mode',
  'document_type',
  'page_size',
];

export const MAX_CONCURRENCY = 64;

/** Environment variable that moves the config directory (tests, cron jobs, containers). */
export const CONFIG_DIR_ENV = 'SYNAP_CONFIG_DIR';

/** Where the config file lives: $SYNAP_CONFIG_DIR, else the OS config dir (XDG_CONFIG_HOME/synap). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[CONFIG_DIR_ENV];
  if (fromEnv) return fromEnv;
  return envPaths('synap', { suffix: '' }).config;
}

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}

/** A `config get/set/unset` key, or a UsageError that says what the keys are. */
export function checkSettingKey(key: string): SettingKey {
  if (key === 'api_key') {
    throw new UsageError('the API key is not a config setting', {
      hints: ["Use 'synap auth login' to store it and 'synap auth logout' to forget it."],
    });
  }
  if (!isSettingKey(key)) {
    throw new UsageError(`unknown setting "${key}"`, {
      hints: [`Known settings: ${SETTING_KEYS.join(', ')}.`],
    });
  }
  return key;
}

function parseInteger(key: string, raw: string, min: number, max: number): number {
  return integer(key, min, max)(raw.trim());
}

function parseEnum<T extends string>(key: string, raw: string, values: readonly T[]): T {
  const v = raw.trim();
  if (!(values as readonly string[]).includes(v)) {
    throw new UsageError(`${key} must be one of: ${values.join(', ')} (got "${raw}")`);
  }
  return v as T;
}

function parseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new UsageError(
      `base_url must be an absolute https URL (got "${withoutCredentials(raw)}")`,
    );
  }
  // Same rule as every request: https, or plain http to a loopback host only.
  return checkBaseUrl(url.toString()).toString().replace(/\/+$/, '');
}

/** Validates and converts a `config set` value; throws UsageError naming the allowed values. */
export function parseSetting<K extends SettingKey>(key: K, raw: string): ProfileDefaults[K];
export function parseSetting(key: string, raw: string): ProfileDefaults[SettingKey];
export function parseSetting(key: string, raw: string): ProfileDefaults[SettingKey] {
  switch (key) {
    case 'base_url':
      return parseBaseUrl(raw);
    case 'batch_size':
      return parseInteger(key, raw, 1, MAX_BATCH_SIZE);
    case 'page_size':
      return parseInteger(key, raw, 1, MAX_PAGE_SIZE);
    case 'concurrency':
      return parseInteger(key, raw, 1, MAX_CONCURRENCY);
    case 'mode':
      return parseEnum(key, raw, MODES);
    case 'document_type':
      return parseEnum(key, raw, DOCUMENT_TYPES);
    default:
      throw new UsageError(`unknown setting "${key}"`, {
        hints: [
          `Known settings: ${SETTING_KEYS.join(', ')}. The API key is set with 'synap auth login'.`,
        ],
      });
  }
}

/** Profile names: letters, digits, dot, dash, underscore (they appear in shell completions). */
export function checkProfileName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw new UsageError(`invalid profile name "${name}"`, {
      hints: ['Use letters, digits, ".", "-" and "_" (up to 64 characters).'],
    });
  }
  return name;
}

type ConfigShape = { profiles: Record<string, StoredProfile> } & Record<string, unknown>;

/**
 * The credential and profile store: one JSON file (config.json) kept with mode 0600 in a 0700
 * directory, since it holds API keys.
 */
export class ConfigStore {
  readonly path: string;
  readonly dir: string;
  readonly #conf: Conf<ConfigShape>;

  constructor(dir: string = configDir()) {
    this.dir = dir;
    // conf creates missing directories with the default umask; create it private first.
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    else tightenDir(dir);
    this.#conf = new Conf<ConfigShape>({
      projectName: 'synap',
      projectSuffix: '',
      cwd: dir,
      configName: 'config',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      defaults: { profiles: {} },
    });
    this.path = this.#conf.path;
    // A file created by an older version or copied in by hand is tightened on every open.
    if (existsSync(this.path)) {
      try {
        chmodSync(this.path, 0o600);
      } catch {
        // Not ours to change (e.g. read-only mount): reading still works.
      }
    }
  }

  #profiles(): Record<string, StoredProfile> {
    const p = this.#conf.get('profiles');
    return p && typeof p === 'object' ? { ...p } : {};
  }

  #write(name: string, profile: StoredProfile): void {
    const all = this.#profiles();
    if (Object.keys(profile).length === 0) delete all[name];
    else all[name] = profile;
    this.#conf.set('profiles', all);
  }

  /** Names of every stored profile, sorted. */
  profileNames(): string[] {
    return Object.keys(this.#profiles()).sort();
  }

  hasProfile(name: string): boolean {
    return Object.hasOwn(this.#profiles(), name);
  }

  /** The stored profile (an empty object when it does not exist). */
  getProfile(name: string): StoredProfile {
    return { ...(this.#profiles()[name] ?? {}) };
  }

  /** The profile's defaults, without the key, keeping only known and valid values. */
  getDefaults(name: string): ProfileDefaults {
    const p = this.getProfile(name);
    const out: Record<string, unknown> = {};
    for (const key of SETTING_KEYS) {
      const v = p[key];
      if (v === undefined) continue;
      try {
        out[key] = parseSetting(key, String(v));
      } catch {
        // A hand-edited bad value is ignored here; `config list` still shows it.
      }
    }
    return out as ProfileDefaults;
  }

  /** Validates `raw` and stores it; returns the parsed value. */
  set<K extends SettingKey>(name: string, key: K, raw: string): ProfileDefaults[K] {
    checkProfileName(name);
    const value = parseSetting(key, raw);
    this.#write(name, { ...this.getProfile(name), [key]: value });
    return value;
  }

  /** Removes a setting; returns whether it was set. */
  unset(name: string, key: SettingKey): boolean {
    const p = this.getProfile(name);
    if (p[key] === undefined) return false;
    delete p[key];
    this.#write(name, p);
    return true;
  }

  setApiKey(name: string, apiKey: string): void {
    checkProfileName(name);
    this.#write(name, { ...this.getProfile(name), api_key: apiKey });
  }

  /** Forgets the profile's key; returns whether there was one. */
  removeApiKey(name: string): boolean {
    const p = this.getProfile(name);
    if (p.api_key === undefined) return false;
    delete p.api_key;
    this.#write(name, p);
    return true;
  }
}

const notices: string[] = [];
const tightened = new Set<string>();

/**
 * A config directory that others may enter or read (made by hand, or by an older tool with a
 * loose umask) holds API keys: it is made private (0700), and the user told once.
 */
function tightenDir(dir: string): void {
  if (process.platform === 'win32' || tightened.has(dir)) return;
  let mode: number;
  try {
    mode = statSync(dir).mode & 0o777;
  } catch {
    return;
  }
  if ((mode & 0o077) === 0) return;
  tightened.add(dir);
  try {
    chmodSync(dir, 0o700);
    notices.push(
      `the config directory ${dir} was open to others (mode ${mode.toString(8).padStart(4, '0')}); ` +
        'it holds API keys, so it is now private (0700)',
    );
  } catch {
    notices.push(
      `the config directory ${dir} is open to others (mode ${mode.toString(8).padStart(4, '0')}) ` +
        `and could not be made private; it holds API keys: run chmod 700 ${dir}`,
    );
  }
}

/** What opening the store found worth telling the user (shown once by the command runner). */
export function takeConfigNotices(): string[] {
  return notices.splice(0);
}

/** Opens the store at $SYNAP_CONFIG_DIR or the OS default. */
export function openStore(dir?: string): ConfigStore {
  return new ConfigStore(dir ?? configDir());
}
