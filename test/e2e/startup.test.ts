import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';

/**
 * Startup stays cheap: `synap --help` and friends load commander and the declarations of the
 * command asked about, nothing else; a command loads the packages it uses when it runs. Checked
 * by what the built CLI actually loads (a module loader hook records every module), not by
 * timing: the times are measured side by side in the bench (`node bench/run.js --only startup`).
 */

const KEY = 'synap_STARTUPcanary000000000000000000000000000004d1';
let box: ReturnType<typeof makeSandbox>;
let emu: RunningEmulator;
let hook: string;

beforeAll(async () => {
  box = makeSandbox();
  emu = await startEmulator({ port: 0, apiKey: KEY });
  hook = join(box.dir, 'record-loads.mjs');
  const recorder = `
import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.SYNAP_TEST_LOAD_LOG, url + '\\n');
  return next(url, context);
}`;
  writeFileSync(join(box.dir, 'recorder.mjs'), recorder);
  writeFileSync(
    hook,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${join(box.dir, 'recorder.mjs')}`)});\n`,
  );
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

let runNumber = 0;

/** Runs the CLI and returns its exit code, stdout and the modules it loaded (paths). */
async function loads(args: string[], extra: Record<string, string> = {}) {
  const log = join(box.dir, `loads-${++runNumber}.txt`);
  writeFileSync(log, '');
  const r = await runCli(args, {
    env: {
      ...box.env,
      ...extra,
      SYNAP_TEST_LOAD_LOG: log,
      NODE_OPTIONS: `--import=${hook}`,
    },
  });
  const modules = readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((u) => u.replace(/^file:\/\//, ''));
  return { ...r, modules };
}

/** The npm packages among loaded modules. */
function packages(modules: string[]): string[] {
  const names = new Set<string>();
  for (const m of modules) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m);
    if (match) names.add(match[1]!);
  }
  return [...names].sort();
}

/** Modules of the CLI itself (dist/…). */
function own(modules: string[]): string[] {
  return modules.filter((m) => m.includes('/dist/')).map((m) => m.replace(/.*\/dist\//, ''));
}

describe('startup', () => {
  it('synap --version loads no package at all, and prints the version', async () => {
    const r = await loads(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(packages(r.modules)).toEqual([]);
    const json = await loads(['--version', '--json']);
    expect(JSON.parse(json.stdout).result.version).toBe(r.stdout.trim());
    expect(packages(json.modules)).toEqual([]);
  });

  it.each([
    [['--help']],
    [['memories', 'list', '--help']],
    [['help', 'ingest']],
    [['ingest', '--help']],
    [['export', '--help']],
    [['emulator', '--help']],
    [['config', 'set', '--help']],
    [['--profile', 'x', '--version']],
    [['__complete', '--', 'memories', '']],
  ])('synap %j loads commander and no other package', async (args) => {
    const r = await loads(args);
    expect(r.code, r.stderr).toBe(0);
    expect(packages(r.modules)).toEqual(['commander']);
  });

  it('memories list --help loads the memories commands and no other command', async () => {
    const r = await loads(['memories', 'list', '--help']);
    const commands = own(r.modules).filter((m) => m.startsWith('commands/'));
    expect(commands.some((m) => m.startsWith('commands/memories/list'))).toBe(true);
    const others = commands.filter(
      (m) =>
        !/^commands\/(memories\/|run\.js|lazy\.js|flags\.js|version\.js|command-line\.js)/.test(
          m,
        ) && m !== 'commands/run.js',
    );
    expect(others).toEqual([]);
  });

  it('a command loads what it uses when it runs: memories list, config list, ingest --dry-run', async () => {
    const env = { SYNAP_API_KEY: KEY, SYNAP_BASE_URL: emu.url };
    const list = await loads(['memories', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    // The config store (for the profile) and the table; no prompt, spinner, CSV or SQLite.
    expect(packages(list.modules)).toEqual(expect.arrayContaining(['conf', 'cli-table3']));
    for (const p of ['@inquirer/prompts', 'ora', 'csv-parse', 'better-sqlite3']) {
      expect(packages(list.modules)).not.toContain(p);
    }
    const config = await loads(['config', 'list']);
    expect(config.code).toBe(0);
    expect(packages(config.modules)).not.toContain('@inquirer/prompts');
    expect(packages(config.modules)).not.toContain('better-sqlite3');
    const input = join(box.dir, 'one.jsonl');
    writeFileSync(input, '{"document":"hello"}\n');
    const dry = await loads(['ingest', input, '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(packages(dry.modules)).not.toContain('better-sqlite3');
    expect(packages(dry.modules)).not.toContain('@inquirer/prompts');
  });
});
