import type { Command } from 'commander';
import type { WhoamiResponse } from '../../client/types.js';
import type { AuthReport } from '../../output/auth.js';
import { maskKey } from '../../redact.js';
import type { Session } from '../../session.js';
import type { CommandSpec } from '../run.js';

/** What `auth status` and `auth login` report: the session, its key masked, and whoami's answer. */
export function authReport(
  session: Session,
  who: { data: WhoamiResponse },
  keySource = session.keySource,
): AuthReport {
  return {
    profile: session.profile,
    base_url: session.baseUrl,
    key: maskKey(session.apiKey),
    key_source: keySource,
    instance_id: who.data.instance_id,
    client_id: who.data.client_id,
    local: session.local,
  };
}

/** `synap auth status`: resolves the key as any command would and asks whose it is. */
export const statusCommand: CommandSpec<Record<string, never>, [], AuthReport> = {
  declare: (cmd: Command) =>
    cmd
      .description(
        'show the profile, base URL, masked key, and the instance and client it belongs to',
      )
      .addHelpText(
        'after',
        `
Examples:
  $ synap auth status
  $ synap --profile staging auth status
  $ synap auth status --json | jq -r .result.instance_id`,
      ),

  async run(ctx) {
    const session = await ctx.session();
    return { result: authReport(session, await session.client.whoami()) };
  },

  render: async (report, view) =>
    (await import('../../output/auth.js')).printAuthReport(report, view),
};
