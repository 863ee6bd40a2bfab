import { Option, type Command } from 'commander';
import { MERGE_STRATEGIES, type Memory, type MergeStrategy } from '../../client/types.js';
import { UsageError } from '../../errors.js';
import type { CommandSpec } from '../run.js';
import { withIdChecked } from './ids.js';

interface UpdateFlags {
  document: string;
  mergeStrategy: MergeStrategy;
}

/** `synap memories update <memory_id> --document TEXT`: new text for a memory. */
export const updateCommand: CommandSpec<UpdateFlags, [string], Memory> = {
  declare: (cmd: Command) =>
    cmd
      .description('change a memory by sending new document text')
      .argument('<memory_id>', 'a memory id, or a unique start of one (at least 4 characters)')
      .requiredOption('--document <text>', 'the new text')
      .addOption(
        new Option('--merge-strategy <strategy>', 'how the text is combined with the memory')
          .choices([...MERGE_STRATEGIES])
          .default('smart-merge'),
      )
      .addHelpText(
        'after',
        `
Examples:
  $ synap memories update 3f0c9d2e-... --document "Prefers email over phone"
  $ synap memories update 3f0c9d2e-... --merge-strategy append --document Vegan`,
      ),

  async run(ctx, flags, given) {
    if (flags.document.trim() === '') throw new UsageError('--document must not be empty');
    const session = await ctx.session();
    const { resolveIdPrefixes } = await import('../../memories/id-prefix.js');
    const [id] = await resolveIdPrefixes(session.client, [given]);
    const updated = await withIdChecked(id!, 'memory', () =>
      session.client.update(id!, { document: flags.document, merge_strategy: flags.mergeStrategy }),
    );
    return { result: updated.data };
  },

  render: async (memory, view) =>
    (await import('../../output/memories.js')).printMemory(memory, view),
};
