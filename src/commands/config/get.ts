import type { Command } from 'commander';
import { checkSettingKey, SETTING_KEYS, type SettingKey } from '../../config/settings.js';
import { ExitCode } from '../../errors.js';
import type { CommandSpec } from '../run.js';

/** A setting of a profile, as `config get` and `config set` report it. */
export type SettingResult = { profile: string; key: string; value: unknown };

/** `synap config get <key>`: one setting; unset is exit 1, like `git config`, so scripts can branch. */
export const getCommand: CommandSpec<Record<string, never>, [SettingKey], SettingResult> = {
  declare: (cmd: Command) =>
    cmd
      .description('print one setting of the profile (exit 1 when unset)')
      .argument('<key>', SETTING_KEYS.join(', '), checkSettingKey)
      .addHelpText(
        'after',
        `
Examples:
  $ synap config get page_size
  $ synap --profile staging config get base_url`,
      ),

  async run(ctx, _flags, key) {
    const profile = ctx.globals.profile;
    const { openReadableStore } = await import('../../config/store.js');
    const value = (await openReadableStore()).getProfile(profile)[key] ?? null;
    return {
      result: { profile, key, value },
      exitCode: value === null ? ExitCode.FAILURE : ExitCode.OK,
    };
  },

  render: async (result) => (await import('../../output/config.js')).printSetting(result),
};
