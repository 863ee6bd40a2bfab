import type { Command } from 'commander';
import type { CreditBalance } from '../../client/types.js';
import type { CommandSpec } from '../run.js';

/** `synap credits` (or `synap credits balance`): the wallet's balance and its buckets. */
export const balanceCommand: CommandSpec<Record<string, never>, [], CreditBalance> = {
  declare: (cmd: Command) =>
    cmd.description('show the credit balance (the default of synap credits)').addHelpText(
      'after',
      `
Examples:
  $ synap credits
  $ synap credits --json | jq .result.balance_credits`,
    ),

  async run(ctx) {
    const session = await ctx.session();
    return { result: (await session.client.creditsBalance()).data };
  },

  render: async (result, view) =>
    (await import('../../output/credits.js')).printCreditBalance(result, view),
};
