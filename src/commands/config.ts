import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import {
  SETTING_KEYS,
  isSettingKey,
  openStore,
  type SettingKey,
  type StoredProfile,
} from '../config/store.js';
import { writeJson } from '../output/json.js';
import { info, writeOut } from '../output/messages.js';
import { maskKey } from '../output/redact.js';
import { renderTable } from '../output/table.js';

function checkKey(key: string): SettingKey {
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

/** A profile as shown to the user: the key masked, never in full. */
function displayProfile(p: StoredProfile): Record<string, unknown> {
  const { api_key, ...rest } = p;
  return api_key === undefined ? rest : { ...rest, api_key: maskKey(api_key) };
}

export function listProfiles(
  globals: GlobalOptions,
  all: boolean,
): { profiles: Record<string, Record<string, unknown>>; path: string } {
  const store = openStore();
  const names = all ? store.profileNames() : [globals.profile];
  const profiles: Record<string, Record<string, unknown>> = {};
  for (const name of names) profiles[name] = displayProfile(store.getProfile(name));
  return { profiles, path: store.path };
}

/** Adds the 'config' command to the program. */
export function register(program: Command): void {
  const config = program
    .command('config')
    .description(
      'show and change per-profile defaults: base_url, batch_size, concurrency, mode, document_type, page_size',
    )
    .addHelpText(
      'after',
      `
Settings: ${SETTING_KEYS.join(', ')}. Stored in $SYNAP_CONFIG_DIR/config.json (default: the
user config dir, e.g. ~/.config/synap), mode 0600.

Examples:
  $ synap config set batch_size 50
  $ synap --profile staging config set base_url https://staging.example.com
  $ synap config list --all`,
    );

  config
    .command('list')
    .description("show the profile's settings (--all: every profile); keys are masked")
    .option('--all', 'every stored profile')
    .addHelpText(
      'after',
      `
Examples:
  $ synap config list
  $ synap config list --all --json`,
    )
    .action(async (opts: { all?: boolean }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const result = listProfiles(globals, opts.all === true);
      if (globals.json) {
        await writeJson(result);
        return;
      }
      const rows: string[][] = [];
      for (const [name, settings] of Object.entries(result.profiles)) {
        const entries = Object.entries(settings);
        if (entries.length === 0) rows.push([name, '(empty)', '']);
        for (const [k, v] of entries) rows.push([name, k, String(v)]);
      }
      if (rows.length === 0) info('No profiles stored yet.');
      else writeOut(renderTable(['profile', 'setting', 'value'], rows, { color: globals.color }));
      info(`config file: ${result.path}`, { quiet: globals.quiet });
    });

  config
    .command('get')
    .description('print one setting of the profile (exit 1 when unset)')
    .argument('<key>', SETTING_KEYS.join('|'))
    .addHelpText(
      'after',
      `
Examples:
  $ synap config get page_size
  $ synap --profile staging config get base_url`,
    )
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const setting = checkKey(key);
      const value = openStore().getProfile(globals.profile)[setting];
      if (globals.json)
        await writeJson({ profile: globals.profile, key: setting, value: value ?? null });
      else if (value !== undefined) writeOut(String(value));
      // Like `git config`: an unset value is exit 1, so scripts can branch on it.
      if (value === undefined) process.exitCode = 1;
    });

  config
    .command('set')
    .description('validate and store one setting in the profile')
    .argument('<key>', SETTING_KEYS.join('|'))
    .argument('<value>')
    .addHelpText(
      'after',
      `
Values: batch_size 1-100, page_size 1-100, concurrency 1-64, mode fast|long-range,
document_type ai-chat-conversation|document|email|pdf|image|audio|meeting-transcript,
base_url https://... (plain http only for localhost).

Examples:
  $ synap config set batch_size 50
  $ synap config set mode fast
  $ synap --profile local config set base_url http://127.0.0.1:8765`,
    )
    .action(async (key: string, raw: string, _opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const setting = checkKey(key);
      const value = openStore().set(globals.profile, setting, raw);
      if (globals.json) await writeJson({ profile: globals.profile, key: setting, value });
      else info(`${globals.profile}: ${setting} = ${String(value)}`);
    });

  config
    .command('unset')
    .description('remove one setting from the profile')
    .argument('<key>', SETTING_KEYS.join('|'))
    .addHelpText(
      'after',
      `
Examples:
  $ synap config unset batch_size
  $ synap --profile staging config unset base_url`,
    )
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const setting = checkKey(key);
      const removed = openStore().unset(globals.profile, setting);
      if (globals.json) await writeJson({ profile: globals.profile, key: setting, removed });
      else info(removed ? `${globals.profile}: ${setting} unset` : `${setting} was not set`);
    });

  // Hidden: used by the shell completion scripts to offer profile names. Never fails loudly.
  config
    .command('profiles', { hidden: true })
    .description('print stored profile names, one a line')
    .action(() => {
      let names: string[] = [];
      try {
        names = openStore().profileNames();
      } catch {
        names = [];
      }
      if (names.length > 0) writeOut(names.join('\n'));
    });
}
