import type { Command } from 'commander';
import { MAX_PAGE_SIZE, type ListMemoriesResponse } from '../../client/types.js';
import { integer } from '../flags.js';
import type { CommandSpec } from '../run.js';

const DEFAULT_PAGE_SIZE = 20;

interface ListFlags {
  page?: number;
  pageSize?: number;
  userId?: string;
  customerId?: string;
}

/** `synap memories list`: one page of memories. */
export const listCommand: CommandSpec<ListFlags, [], ListMemoriesResponse> = {
  declare: (cmd: Command) =>
    cmd
      .description('list one page of memories (id, type, content, created)')
      .option('--page <n>', 'page number (from 1)', integer('--page', 1))
      .option(
        '--page-size <n>',
        `memories per page (1-${MAX_PAGE_SIZE}; default: profile page_size, else ${DEFAULT_PAGE_SIZE})`,
        integer('--page-size', 1, MAX_PAGE_SIZE),
      )
      .option('--user-id <id>', 'only memories of this user')
      .option('--customer-id <id>', 'only memories of this customer')
      .addHelpText(
        'after',
        `
Examples:
  $ synap memories list
  $ synap memories list --page 2 --page-size 50 --user-id u_123
  $ synap --local memories list --json | jq -r '.result.data[].memory_id'`,
      ),

  async run(ctx, flags) {
    const session = await ctx.session();
    const page = await session.client.list({
      page: flags.page ?? 1,
      pageSize: flags.pageSize ?? session.defaults.page_size ?? DEFAULT_PAGE_SIZE,
      ...(flags.userId !== undefined ? { userId: flags.userId } : {}),
      ...(flags.customerId !== undefined ? { customerId: flags.customerId } : {}),
    });
    return { result: page.data };
  },

  render: async (page, view) =>
    (await import('../../output/memories.js')).printMemoryPage(page, view),
};
