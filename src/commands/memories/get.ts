import type { Command } from 'commander';
import type { Memory } from '../../client/types.js';
import type { CommandSpec } from '../run.js';
import { withIdChecked } from './ids.js';

/** `synap memories get <memory_id>`: one memory, every field. */
export const getCommand: CommandSpec<Record<string, never>, [string], Memory> = {
  declare: (cmd: Command) =>
    cmd
      .description('show one memory')
      .argument('<memory_id>', 'a memory id, or a unique start of one (at least 4 characters)')
      .addHelpText(
        'after',
        `
Examples:
  $ synap memories get 3f0c9d2e-5b1a-4c11-9a53-0d7d1c1f2b11
  $ synap memories get 3f0c9d2e-... --json | jq .result.content`,
      ),

  async run(ctx, _flags, given) {
    const session = await ctx.session();
    const { resolveIdPrefixes } = await import('../../memories/id-prefix.js');
    const [id] = await resolveIdPrefixes(session.client, [given]);
    return { result: (await withIdChecked(id!, 'memory', () => session.client.get(id!))).data };
  },

  render: async (memory, view) =>
    (await import('../../output/memories.js')).printMemory(memory, view),
};
