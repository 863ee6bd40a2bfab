import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import Conf from 'conf';
import envPaths from 'env-paths';
import { addConfigNotice } from './notices.js';
import {
  checkProfileName,
  parseSetting,
  SETTING_KEYS,
  type ProfileDefaults,
  type SettingKey,
  type StoredProfile,
} from './settings.js';

export {
  checkProfileName,
  checkSettingKey,
  isSettingKey,
  MAX_CONCURRENCY,
  parseSetting,
  SETTING_KEYS,
  type ProfileDefaults,
  type SettingKey,
  type StoredProfile,
} from './settings.js';

/** Environment variable that moves the config directory (tests, cron jobs, containers). */
export const CONFIG_DIR_ENV = 'SYNAP_CONFIG_DIR';

/** Where the config file lives: $SYNAP_CONFIG_DIR, else the OS config dir (XDG_CONFIG_HOME/synap). */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[CONFIG_DIR_ENV];
  if (fromEnv) return fromEnv;
  return envPaths('synap', { suffix: '' }).config;
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
    addConfigNotice(
      `the config directory ${dir} was open to others (mode ${mode.toString(8).padStart(4, '0')}); ` +
        'it holds API keys, so it is now private (0700)',
    );
  } catch {
    addConfigNotice(
      `the config directory ${dir} is open to others (mode ${mode.toString(8).padStart(4, '0')}) ` +
        `and could not be made private; it holds API keys: run chmod 700 ${dir}`,
    );
  }
}

/** Opens the store at $SYNAP_CONFIG_DIR or the OS default. */
export function openStore(dir?: string): ConfigStore {
  return new ConfigStore(dir ?? configDir());
}
