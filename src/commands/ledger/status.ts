import type { Command } from 'commander';
import type { LedgerStatus } from '../../output/ledger.js';
import type { CommandSpec } from '../run.js';
import { openLedger } from '../ingest-ledger.js';

/** `synap ledger status`: what this machine's ledger says each instance holds. Local only. */
export const statusCommand: CommandSpec<Record<string, never>, [], LedgerStatus> = {
  declare: (cmd: Command) =>
    cmd.description(
      'show what the ledger holds for each instance (nothing is asked of the server)',
    ),

  async run() {
    const { statSync } = await import('node:fs');
    const ledger = await openLedger();
    try {
      const size = (p: string) => statSync(p, { throwIfNoEntry: false })?.size ?? 0;
      return {
        result: {
          path: ledger.path,
          bytes: size(ledger.path) + size(`${ledger.path}-wal`),
          instances: ledger.status(),
        },
      };
    } finally {
      ledger.close();
    }
  },

  render: async (result, view) =>
    (await import('../../output/ledger.js')).printLedgerStatus(result, view),
};
