import type { Command } from 'commander';
import type { ProfileListing } from '../../output/config.js';
import { maskKey } from '../../redact.js';
import type { CommandSpec } from '../run.js';

/** `synap config list [--all]`: the profile's settings, or every profile's. */
export const listCommand: CommandSpec<{ all?: boolean }, [], ProfileListing> = {
  declare: (cmd: Command) =>
    cmd
      .description("show the profile's settings (--all: every profile); keys are masked")
      .option('--all', 'every stored profile')
      .addHelpText(
        'after',
        `
Examples:
  $ synap config list
  $ synap config list --all --json | jq .result.profiles`,
      ),

  async run(ctx, flags) {
    const { openReadableStore } = await import('../../config/store.js');
    const store = await openReadableStore();
    const names = flags.all ? store.profileNames() : [ctx.globals.profile];
    const profiles: ProfileListing['profiles'] = {};
    for (const name of names) {
      // The key masked, never in full.
      const { api_key, ...rest } = store.getProfile(name);
      profiles[name] = api_key === undefined ? rest : { ...rest, api_key: maskKey(api_key) };
    }
    return { result: { profiles, path: store.path } };
  },

  render: async (listing, view) =>
    (await import('../../output/config.js')).printProfiles(listing, view),
};
