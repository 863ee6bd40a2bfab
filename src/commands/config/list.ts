import type { Command } from 'commander';
import type { StoredProfile } from '../../config/settings.js';
import type { ProfileListing } from '../../output/config.js';
import { maskKey } from '../../redact.js';
import type { CommandSpec } from '../run.js';

/** A profile as shown to the user: the key masked, never in full. */
function displayProfile(p: StoredProfile): Record<string, unknown> {
  const { api_key, ...rest } = p;
  return api_key === undefined ? rest : { ...rest, api_key: maskKey(api_key) };
}

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
    for (const name of names) profiles[name] = displayProfile(store.getProfile(name));
    return { result: { profiles, path: store.path } };
  },

  render: async (listing, view) =>
    (await import('../../output/config.js')).printProfiles(listing, view),
};
