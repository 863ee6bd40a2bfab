import type { Command } from 'commander';
import type { CommandSpec } from '../run.js';

/**
 * Hidden `synap config profiles`: stored profile names, one a line, for the shell completion
 * scripts. An unreadable config is no names rather than an error: completion must never fail loudly.
 */
export const profilesCommand: CommandSpec<Record<string, never>, [], string[]> = {
  declare: (cmd: Command) => cmd.description('print stored profile names, one a line'),

  async run() {
    const names = await import('../../config/store.js')
      .then(async ({ openStore }) => (await openStore()).profileNames())
      .catch(() => []);
    return { result: names };
  },

  render: async (names) => (await import('../../output/config.js')).printNames(names),
};
