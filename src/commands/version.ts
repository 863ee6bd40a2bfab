import type { Command } from 'commander';
import type { VersionInfo } from '../build-info.js';
import type { CommandSpec } from './run.js';

/** `synap version` (and `synap --version --json`): this build and the runtime it runs on. */
export const versionCommand: CommandSpec<Record<string, never>, [], VersionInfo> = {
  declare: (cmd: Command) =>
    cmd.addHelpText(
      'after',
      `
'synap --version' prints the version number alone; with --json it prints this command's
envelope.

Examples:
  $ synap version
  $ synap --json version | jq -r .result.build.commit`,
    ),

  async run() {
    const { versionInfo } = await import('../build-info.js');
    return { result: versionInfo() };
  },

  render: async (info) => (await import('../output/version.js')).printVersion(info),
};

const GLOBAL_FLAGS = new Set(['--json', '--no-color', '-q', '--quiet', '--no-input']);

/**
 * `synap --version` and `synap --version --json`, answered before the command tree is built:
 * scripts call them often, and they need none of it. Any other command line (a command, a flag
 * with a value) goes the usual way. Returns whether it answered.
 */
export async function answerVersionFlag(args: string[]): Promise<boolean> {
  const asked: string[] = args.filter((a) => a === '--version' || a === '-V');
  if (asked.length === 0 || !args.every((a) => asked.includes(a) || GLOBAL_FLAGS.has(a))) {
    return false;
  }
  await printVersionFlag(args.includes('--json'));
  return true;
}

/** What `--version` prints: the version number alone, or with --json the envelope of `synap version`. */
export async function printVersionFlag(json: boolean): Promise<void> {
  const { versionInfo } = await import('../build-info.js');
  const info = versionInfo();
  if (json) {
    const { writeEnvelope } = await import('../output/json.js');
    await writeEnvelope({ status: 'ok', result: info });
  } else {
    (await import('../output/version.js')).printVersionNumber(info);
  }
}
