import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type Conf from 'conf';
import { UsageError, WriteFailedError } from '../errors.js';
import { makeDirsSync } from '../make-dirs.js';
import { addConfigNotice } from './notices.js';
import {
  checkProfileName,
  parseSetting,
  SETTING_KEYS,
  type ProfileDefaults,
  type SettingKey,
  type StoredProfile,
} from './settings.js';

/** Environment variable that moves the config directory (tests, cron jobs, containers). */
const CONFIG_DIR_ENV = 'SYNAP_CONFIG_DIR';

/**
 * Where the config file lives: $SYNAP_CONFIG_DIR, else the OS config dir (XDG_CONFIG_HOME/synap).
 * env-paths is imported only for the second (it and its dependency cost ~10 ms of start-up).
 */
export async function configDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env[CONFIG_DIR_ENV];
  if (fromEnv) return fromEnv;
  const { default: envPaths } = await import('env-paths');
  return envPaths('synap', { suffix: '' }).config;
}

type ConfigShape = { profiles: Record<string, StoredProfile> } & Record<string, unknown>;

/** The config file's name in the config directory (conf's `configName` plus `.json`). */
const CONFIG_FILE = 'config.json';

/**
 * The credential and profile store: one JSON file (config.json) kept with mode 0600 in a 0700
 * directory, since it holds API keys. Opened with openStore(). An existing file is read through
 * `conf`; when there is none, reads see no profiles and `conf` is not loaded at all (it costs
 * more start-up time than the rest of an ingest's modules). Writes always go through `conf`,
 * which is loaded then, and create the directory and file as needed.
 */
export class ConfigStore {
  readonly path: string;
  readonly dir: string;
  #conf: Conf<ConfigShape> | undefined;
  #opening: Promise<Conf<ConfigShape>> | undefined;

  /**
   * Why the config cannot be used (a file where the directory should be, a config.json that is
   * not JSON, a directory in its place); undefined when it can. Such a store reads as empty
   * and refuses writes, so a file that may hold keys is never written over.
   */
  readonly problem: string | undefined;

  private constructor(dir: string, conf: Conf<ConfigShape> | undefined, problem?: string) {
    this.dir = dir;
    this.problem = problem;
    // Absolute, as conf makes it (a relative $SYNAP_CONFIG_DIR is shown resolved).
    this.path = conf?.path ?? resolve(dir, CONFIG_FILE);
    this.#conf = conf;
  }

  /** See openStore(). */
  static async open(dir: string): Promise<ConfigStore> {
    const problem = unusableConfig(dir);
    if (problem !== undefined) return new ConfigStore(dir, undefined, problem);
    if (existsSync(resolve(dir, CONFIG_FILE))) {
      try {
        return new ConfigStore(dir, await openConf(dir));
      } catch (err) {
        if (err instanceof WriteFailedError) throw err;
        // conf's own messages can quote the file: only the file and the error code are told.
        const code = (err as NodeJS.ErrnoException).code;
        return new ConfigStore(
          dir,
          undefined,
          `the config file ${resolve(dir, CONFIG_FILE)} cannot be opened${code ? ` (${code})` : ''}`,
        );
      }
    }
    if (existsSync(dir)) tightenDir(dir);
    return new ConfigStore(dir, undefined);
  }

  /** conf, loaded and opened on the first write when the file did not exist on open. */
  async #writable(): Promise<Conf<ConfigShape>> {
    if (this.#conf) return this.#conf;
    if (this.problem !== undefined) {
      throw new UsageError(`${this.problem}; nothing was written`, {
        hints: [CONFIG_PROBLEM_HINT],
      });
    }
    this.#opening ??= openConf(this.dir).then((conf) => (this.#conf = conf));
    return this.#opening;
  }

  #profiles(): Record<string, StoredProfile> {
    const p = this.#conf?.get('profiles');
    return p && typeof p === 'object' ? { ...p } : {};
  }

  #write(conf: Conf<ConfigShape>, name: string, profile: StoredProfile): void {
    const all = this.#profiles();
    if (Object.keys(profile).length === 0) delete all[name];
    else all[name] = profile;
    conf.set('profiles', all);
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

  // Each write opens conf before reading the profile it changes, so it starts from what the
  // file holds now (another process may have created it since the store was opened).

  /** Validates `raw` and stores it; returns the parsed value. */
  async set<K extends SettingKey>(name: string, key: K, raw: string): Promise<ProfileDefaults[K]> {
    checkProfileName(name);
    const value = parseSetting(key, raw);
    const conf = await this.#writable();
    this.#write(conf, name, { ...this.getProfile(name), [key]: value });
    return value;
  }

  /** Removes a setting, or the key (`auth logout`); returns whether it was set. */
  async unset(name: string, key: keyof StoredProfile): Promise<boolean> {
    const conf = await this.#writable();
    const p = this.getProfile(name);
    if (p[key] === undefined) return false;
    delete p[key];
    this.#write(conf, name, p);
    return true;
  }

  async setApiKey(name: string, apiKey: string): Promise<void> {
    checkProfileName(name);
    const conf = await this.#writable();
    this.#write(conf, name, { ...this.getProfile(name), api_key: apiKey });
  }
}

/**
 * Loads conf (ESM-only, so through import()) and opens the file with it: the directory is
 * created private first, since conf would create it with the default umask; an existing one
 * open to others is tightened, and an existing file is made 0600.
 */
async function openConf(dir: string): Promise<Conf<ConfigShape>> {
  const { default: Conf } = await import('conf');
  if (!existsSync(dir)) {
    try {
      makeDirsSync(dir, 0o700);
    } catch (err) {
      throw new WriteFailedError(dir, 'the config directory', err, {
        hints: ['Set SYNAP_CONFIG_DIR to a directory you can write, or unset it for the default.'],
      });
    }
  } else tightenDir(dir);
  const conf = new Conf<ConfigShape>({
    projectName: 'synap',
    projectSuffix: '',
    cwd: dir,
    configName: 'config',
    configFileMode: 0o600,
    accessPropertiesByDotNotation: false,
    defaults: { profiles: {} },
  });
  // A file created by an older version or copied in by hand is tightened on every open.
  if (existsSync(conf.path)) {
    try {
      chmodSync(conf.path, 0o600);
    } catch {
      // Not ours to change (e.g. read-only mount): reading still works.
    }
  }
  return conf;
}

/** What to do about a config that cannot be used. */
export const CONFIG_PROBLEM_HINT =
  'Fix the file or move it away (it may hold keys you want to keep), or set SYNAP_CONFIG_DIR ' +
  'to another directory; a run with SYNAP_API_KEY set goes on without it.';

/**
 * Why the config at `dir` cannot be used, or undefined when it can (or does not exist yet).
 * The text of the file is never quoted: it can hold an API key. Nothing is changed: a path
 * that is not what synap would have made is not synap's to fix.
 */
function unusableConfig(dir: string): string | undefined {
  const named = process.env[CONFIG_DIR_ENV] === dir ? ` (${CONFIG_DIR_ENV})` : '';
  let dirStat;
  try {
    dirStat = statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    // A path through a file (ENOTDIR) is nothing stored; creating it says why it cannot be.
    if (errorCode(err) === 'ENOTDIR') return undefined;
    return `the config directory ${dir}${named} cannot be read (${errorCode(err)})`;
  }
  if (dirStat === undefined) return undefined;
  if (!dirStat.isDirectory()) {
    return `the config directory ${dir}${named} is not a directory`;
  }
  const file = resolve(dir, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR') return `the config file ${file} is a directory`;
    return `the config file ${file} cannot be read (${code})`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return `the config file ${file} is not valid JSON${jsonErrorPlace(text, err)}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return `the config file ${file} does not hold a JSON object`;
  }
  return undefined;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'error';
}

/**
 * ` (line L, column C)` of a JSON.parse failure when its message gives a position, else ''.
 * Only the position is taken from the message: its other words can quote the text.
 */
function jsonErrorPlace(text: string, err: unknown): string {
  const at = /\bposition (\d+)/.exec((err as Error).message ?? '');
  if (!at) return '';
  const offset = Math.min(Number(at[1]), text.length);
  const before = text.slice(0, offset).split('\n');
  return ` (line ${before.length}, column ${before[before.length - 1]!.length + 1})`;
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
    const st = statSync(dir);
    // Only a directory is ours to tighten; a file named as the config dir is left alone.
    if (!st.isDirectory()) return;
    mode = st.mode & 0o777;
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

/**
 * Opens the store at `dir` ($SYNAP_CONFIG_DIR or the OS default). Reading creates nothing: with
 * no config file the store reads as empty and the directory is left as it is (or absent).
 */
export async function openStore(dir?: string): Promise<ConfigStore> {
  return ConfigStore.open(dir ?? (await configDir()));
}

/**
 * Opens the store for a command that shows what it holds (config list, get, profiles): a config
 * that cannot be used is that command's error (exit 2), not an empty listing.
 */
export async function openReadableStore(dir?: string): Promise<ConfigStore> {
  const store = await openStore(dir);
  if (store.problem !== undefined) {
    throw new UsageError(store.problem, { hints: [CONFIG_PROBLEM_HINT] });
  }
  return store;
}
