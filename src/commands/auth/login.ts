import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import { CliError, UsageError } from '../../errors.js';
import type { AuthReport } from '../../output/auth.js';
import type { CommandSpec } from '../run.js';
import { authReport } from './status.js';

/** `err` with one more hint line under its message. */
function withHint(err: unknown, hint: string): unknown {
  if (err instanceof CliError) (err.hints as string[]).push(hint);
  return err;
}

/** `synap auth login`: reads the key (stdin or masked prompt), verifies it with whoami, stores it. */
export const loginCommand: CommandSpec<{ apiKeyStdin?: boolean }, [], AuthReport> = {
  declare: (cmd: Command) =>
    cmd
      .description(
        'ask for an API key (masked), verify it with the server, store it in the profile',
      )
      .option('--api-key-stdin', 'read the key from stdin instead of prompting (for scripts)')
      .addHelpText(
        'after',
        `
Examples:
  $ synap auth login
  $ printf %s "$SYNAP_KEY" | synap auth login --api-key-stdin
  $ synap --profile staging --base-url https://staging.example.com auth login`,
      ),

  async run(ctx, flags) {
    const { globals } = ctx;
    const key = (
      flags.apiKeyStdin
        ? await text(process.stdin)
        : await (
            await import('../../output/prompts.js')
          ).promptSecret(`Synap API key for profile "${globals.profile}":`, {
            interactive: globals.interactive,
            color: globals.stderrColor,
            alternative: `Pipe the key in: printf %s "$SYNAP_KEY" | ${ctx.commandLine.with({ add: ['--api-key-stdin'] })} (or set SYNAP_API_KEY).`,
          })
    ).trim();
    if (!key)
      throw new UsageError(flags.apiKeyStdin ? 'no API key on stdin' : 'no API key entered');
    if (/\s/.test(key)) throw new UsageError('the API key must not contain spaces or line breaks');

    let session = await ctx.session({ apiKey: key });
    let otherUrl: string | undefined;
    let who;
    for (;;) {
      try {
        who = await session.client.whoami();
        break;
      } catch (err) {
        const { NetworkTimeoutError } = await import('../../client/errors.js');
        if (!(err instanceof NetworkTimeoutError) || session.local) throw err;
        // No server there: the key is kept and another host can be tried without typing it again.
        const profile = globals.profile === 'default' ? '' : ` --profile ${globals.profile}`;
        const stdin = flags.apiKeyStdin ? ' --api-key-stdin' : '';
        const hint =
          `Point at another host: synap${profile} auth login --base-url <url>${stdin}` +
          " (for 'synap emulator', the URL its banner shows).";
        if (flags.apiKeyStdin || !globals.interactive) throw withHint(err, hint);
        const { promptText } = await import('../../output/prompts.js');
        const { notify } = await import('../../output/notices.js');
        notify(`could not reach ${session.baseUrl}: ${err.message}`);
        const url = (
          await promptText('Base URL to try instead (Enter to stop):', {
            interactive: globals.interactive,
            color: globals.stderrColor,
            alternative: hint,
          })
        ).trim();
        if (url === '') throw withHint(err, hint);
        otherUrl = url;
        session = await ctx.session({ apiKey: key, baseUrl: url });
      }
    }
    // Verified: only now is the key written (mode 0600 file).
    await session.store.setApiKey(session.profile, key);
    if ((globals.baseUrl !== undefined || otherUrl !== undefined) && !session.local) {
      await session.store.set(session.profile, 'base_url', session.baseUrl);
    }
    return { result: authReport(session, who, 'profile') };
  },

  render: async (report, view) =>
    (await import('../../output/auth.js')).printLoggedIn(report, view),
};
