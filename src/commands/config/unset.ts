import type { Command } from 'commander';
import { checkSettingKey, SETTING_KEYS, type SettingKey } from '../../config/settings.js';
import type { CommandSpec } from '../run.js';

type Unset = { profile: string; key: string; removed: boolean };

/** `synap config unset <key>`: removes one setting from the profile. */
export const unsetCommand: CommandSpec<Record<string, never>, [SettingKey], Unset> = {
  declare: (cmd: Command) =>
    cmd
      .description('remove one setting from the profile')
      .argument('<key>', SETTING_KEYS.join(', '), checkSettingKey)
      .addHelpText(
        'after',
        `
Examples:
  $ synap config unset batch_size
  $ synap --profile staging config unset base_url`,
      ),

  async run(ctx, _flags, key) {
    const profile = ctx.globals.profile;
    const { openStore } = await import('../../config/store.js');
    const removed = await (await openStore()).unset(profile, key);
    return { result: { profile, key, removed } };
  },

  render: async (result) => (await import('../../output/config.js')).printSettingChange(result),
};
