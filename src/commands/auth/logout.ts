import type { Command } from 'commander';
import type { CommandSpec } from '../run.js';

type Logout = { profile: string; removed: boolean };

/** `synap auth logout`: forgets the profile's stored key (other settings stay). */
export const logoutCommand: CommandSpec<Record<string, never>, [], Logout> = {
  declare: (cmd: Command) =>
    cmd.description("forget the profile's stored API key").addHelpText(
      'after',
      `
Examples:
  $ synap auth logout
  $ synap --profile staging auth logout`,
    ),

  async run(ctx) {
    const profile = ctx.globals.profile;
    const { openStore } = await import('../../config/store.js');
    const removed = await (await openStore()).unset(profile, 'api_key');
    return {
      result: { profile, removed },
      warnings: process.env.SYNAP_API_KEY
        ? ['SYNAP_API_KEY is set in the environment and still provides a key.']
        : [],
    };
  },

  render: async (result) => (await import('../../output/auth.js')).printLoggedOut(result),
};
