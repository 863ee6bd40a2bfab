import type { Command } from 'commander';
import type { LedgerForgotten } from '../../output/ledger.js';
import type { CommandSpec } from '../run.js';
import { openLedger } from '../ingest-ledger.js';
import { keyInstance } from './open.js';

/**
 * `synap ledger forget [document_id…]`: the next ingest sends these documents (or every
 * document of the instance) again, as if this machine had never sent them.
 */
export const forgetCommand: CommandSpec<{ instance?: string }, [string[]], LedgerForgotten> = {
  declare: (cmd: Command) =>
    cmd
      .description(
        'forget documents (default: all) of an instance, so the next ingest sends them again',
      )
      .argument('[document_ids...]', 'only these document ids')
      .option('--instance <id>', "the instance (default: the one the profile's key belongs to)")
      .addHelpText(
        'after',
        `
Examples:
  $ synap ledger forget                     the next run sends everything again
  $ synap ledger forget chat-17 chat-18     just these two
  $ synap ledger forget --instance inst_0123456789abcdef`,
      ),

  async run(ctx, flags, ids) {
    const instanceId = flags.instance ?? (await keyInstance(await ctx.session()));
    const ledger = await openLedger();
    try {
      const forgotten = ledger.forget(instanceId, ids.length > 0 ? ids : undefined);
      return { result: { instance_id: instanceId, forgotten, all: ids.length === 0 } };
    } finally {
      ledger.close();
    }
  },

  render: async (result) => (await import('../../output/ledger.js')).printLedgerForgotten(result),
};
