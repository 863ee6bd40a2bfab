import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { openStore } from '../config/store.js';
import { withSession, type KeySource } from '../config/session.js';
import { writeJson } from '../output/json.js';
import { info, warn, writeOut } from '../output/messages.js';
import { promptSecret } from '../output/prompts.js';
import { maskKey } from '../output/redact.js';
import { renderKeyValue } from '../output/table.js';

/** What `auth login` and `auth status` report (also their --json document). */
export interface AuthReport {
  profile: string;
  base_url: string;
  key: string;
  key_source: KeySource;
  instance_id: string;
  client_id: string;
  local: boolean;
}

async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function profileFlag(profile: string): string {
  return profile === 'default' ? '' : ` --profile ${profile}`;
}

/** Reads the key (stdin or masked prompt), verifies it with whoami, then stores it. */
export async function login(
  globals: GlobalOptions,
  opts: { apiKeyStdin?: boolean },
): Promise<AuthReport> {
  let key: string;
  if (opts.apiKeyStdin) {
    key = (await readStdin()).trim();
    if (!key) throw new UsageError('no API key on stdin');
  } else {
    key = (
      await promptSecret(`Synap API key for profile "${globals.profile}":`, {
        interactive: globals.interactive,
        alternative: `Pipe the key in: printf %s "$SYNAP_KEY" | synap auth login${profileFlag(globals.profile)} --api-key-stdin (or set SYNAP_API_KEY).`,
      })
    ).trim();
    if (!key) throw new UsageError('no API key entered');
  }
  if (/\s/.test(key)) throw new UsageError('the API key must not contain spaces or line breaks');

  return withSession(
    globals,
    async (session) => {
      const who = await session.client.whoami();
      // Verified: only now is the key written (mode 0600 file).
      session.store.setApiKey(session.profile, key);
      if (globals.baseUrl !== undefined && !session.local) {
        session.store.set(session.profile, 'base_url', session.baseUrl);
      }
      return {
        profile: session.profile,
        base_url: session.baseUrl,
        key: maskKey(key),
        key_source: 'profile' as const,
        instance_id: who.data.instance_id,
        client_id: who.data.client_id,
        local: session.local,
      };
    },
    { apiKey: key },
  );
}

/** Resolves the session's key as any command would and asks the server who it belongs to. */
export async function status(globals: GlobalOptions): Promise<AuthReport> {
  return withSession(globals, async (session) => {
    const who = await session.client.whoami();
    return {
      profile: session.profile,
      base_url: session.baseUrl,
      key: maskKey(session.apiKey),
      key_source: session.keySource,
      instance_id: who.data.instance_id,
      client_id: who.data.client_id,
      local: session.local,
    };
  });
}

/** Forgets the profile's stored key (other settings stay). */
export function logout(globals: GlobalOptions): { profile: string; removed: boolean } {
  const store = openStore();
  return { profile: globals.profile, removed: store.removeApiKey(globals.profile) };
}

const SOURCE_LABEL: Record<KeySource, string> = {
  env: 'SYNAP_API_KEY',
  profile: 'stored in profile',
  local: 'local emulator',
  option: 'given',
  none: 'none',
};

async function printReport(report: AuthReport, globals: GlobalOptions): Promise<void> {
  if (globals.json) {
    await writeJson(report);
    return;
  }
  writeOut(
    renderKeyValue(
      [
        ['profile', report.profile],
        ['base URL', report.local ? `${report.base_url} (local emulator)` : report.base_url],
        ['key', `${report.key} (${SOURCE_LABEL[report.key_source]})`],
        ['instance', report.instance_id],
        ['client', report.client_id],
      ],
      { color: globals.color },
    ),
  );
}

/** Adds the 'auth' command to the program. */
export function register(program: Command): void {
  const auth = program
    .command('auth')
    .description('store, check and forget API keys (per profile)')
    .addHelpText(
      'after',
      `
Examples:
  $ synap auth login                   ask for the key (masked), verify, store
  $ printf %s "$KEY" | synap auth login --api-key-stdin --profile staging
  $ synap auth status --json`,
    );

  auth
    .command('login')
    .description('ask for an API key (masked), verify it with the server, store it in the profile')
    .option('--api-key-stdin', 'read the key from stdin instead of prompting (for scripts)')
    .addHelpText(
      'after',
      `
Examples:
  $ synap auth login
  $ printf %s "$SYNAP_KEY" | synap auth login --api-key-stdin
  $ synap --profile staging --base-url https://staging.example.com auth login`,
    )
    .action(async (opts: { apiKeyStdin?: boolean }, cmd: Command) => {
      const globals = globalOptions(cmd);
      const report = await login(globals, opts);
      if (!globals.json) info(`Logged in: key verified and stored in profile "${report.profile}".`);
      await printReport(report, globals);
    });

  auth
    .command('status')
    .description(
      'show the profile, base URL, masked key, and the instance and client it belongs to',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ synap auth status
  $ synap --profile staging auth status
  $ synap auth status --json | jq -r .instance_id`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      await printReport(await status(globals), globals);
    });

  auth
    .command('logout')
    .description("forget the profile's stored API key")
    .addHelpText(
      'after',
      `
Examples:
  $ synap auth logout
  $ synap --profile staging auth logout`,
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const globals = globalOptions(cmd);
      const result = logout(globals);
      if (process.env.SYNAP_API_KEY) {
        warn('SYNAP_API_KEY is set in the environment and still provides a key.');
      }
      if (globals.json) {
        await writeJson(result);
      } else if (result.removed) {
        info(`Removed the stored key of profile "${result.profile}".`);
      } else {
        info(`Profile "${result.profile}" had no stored key.`);
      }
    });
}
