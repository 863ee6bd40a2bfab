import { checkBaseUrl, withoutCredentials } from '../client/base-url.js';
import {
  DOCUMENT_TYPES,
  MAX_BATCH_SIZE,
  MAX_PAGE_SIZE,
  MODES,
  type DocumentType,
  type Mode,
} from '../client/types.js';
import { UsageError } from '../errors.js';
import { integer, refuse } from '../value-rules.js';

/**
 * The settings a profile holds and the rules for their values, apart from the store itself so
 * that declaring commands (and their help) does not load the config file library.
 */

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

export const MAX_CONCURRENCY = 64;

function parseInteger(key: string, min: number, max: number): (raw: string) => number {
  return (raw) => integer(key, min, max)(raw.trim());
}

function parseEnum<T extends string>(key: string, values: readonly T[]): (raw: string) => T {
  return (raw) => {
    const v = raw.trim();
    if (!(values as readonly string[]).includes(v))
      refuse(key, `one of: ${values.join(', ')}`, raw);
    return v as T;
  };
}

function parseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    refuse('base_url', 'an absolute https URL', withoutCredentials(raw));
  }
  // Same rule as every request: https, or plain http to a loopback host only.
  return checkBaseUrl(url.toString()).toString().replace(/\/+$/, '');
}

/** Each setting's parser, in display order. The API key is managed by `auth`, not here. */
const SETTINGS: { [K in SettingKey]-?: (raw: string) => ProfileDefaults[K] } = {
  base_url: parseBaseUrl,
  batch_size: parseInteger('batch_size', 1, MAX_BATCH_SIZE),
  concurrency: parseInteger('concurrency', 1, MAX_CONCURRENCY),
  mode: parseEnum('mode', MODES),
  document_type: parseEnum('document_type', DOCUMENT_TYPES),
  page_size: parseInteger('page_size', 1, MAX_PAGE_SIZE),
};

/** Keys accepted by `config get|set|unset`, in display order. */
export const SETTING_KEYS = Object.keys(SETTINGS) as readonly SettingKey[];

/** A `config get/set/unset` key, or a UsageError that says what the keys are. */
export function checkSettingKey(key: string): SettingKey {
  if (key === 'api_key') {
    throw new UsageError('the API key is not a config setting', {
      hints: ["Use 'synap auth login' to store it and 'synap auth logout' to forget it."],
    });
  }
  if (!Object.hasOwn(SETTINGS, key)) {
    throw new UsageError(`unknown setting "${key}"`, {
      hints: [`Known settings: ${SETTING_KEYS.join(', ')}.`],
    });
  }
  return key as SettingKey;
}

/** Validates and converts a `config set` value; throws UsageError naming the allowed values. */
export function parseSetting<K extends SettingKey>(key: K, raw: string): ProfileDefaults[K];
export function parseSetting(key: string, raw: string): ProfileDefaults[SettingKey];
export function parseSetting(key: string, raw: string): ProfileDefaults[SettingKey] {
  return SETTINGS[checkSettingKey(key)](raw);
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
