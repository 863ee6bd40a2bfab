import type { Command } from 'commander';
import { checkSettingKey, SETTING_KEYS, type SettingKey } from '../../config/settings.js';
import type { CommandSpec } from '../run.js';
import type { SettingResult } from './get.js';

/** `synap config set <key> <value>`: validates and stores one setting. */
export const setCommand: CommandSpec<Record<string, never>, [SettingKey, string], SettingResult> = {
  declare: (cmd: Command) =>
    cmd
      .description('validate and store one setting in the profile')
      .argument('<key>', SETTING_KEYS.join(', '), checkSettingKey)
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
      ),

  async run(ctx, _flags, key, raw) {
    const profile = ctx.globals.profile;
    const { openStore } = await import('../../config/store.js');
    const value = await (await openStore()).set(profile, key, raw);
    return { result: { profile, key, value } };
  },

  render: async (result) => (await import('../../output/config.js')).printSettingChange(result),
};
