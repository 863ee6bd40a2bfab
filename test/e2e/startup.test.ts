import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

/**
 * Startup stays cheap: `synap --help` and friends load commander and the declarations of the
 * command asked about, nothing else; a command loads the packages it uses when it runs. Checked
 * by what the built CLI actually loads (test/helpers/record-loads.mjs records every module), not
 * by timing: the times are measured side by side in the bench (`node bench/run.js --only startup`).
 */

/** Preloaded into every run here: writes the modules the process loaded to SYNAP_TEST_LOAD_LOG. */
const HOOK = resolve(import.meta.dirname, '../helpers/record-loads.mjs');
const noPty = ptyUnavailableReason();

const KEY = 'synap_STARTUPcanary000000000000000000000000000004d1';
let box: ReturnType<typeof makeSandbox>;
let emu: RunningEmulator;

beforeAll(async () => {
  box = makeSandbox();
  emu = await startEmulator({ port: 0, apiKey: KEY, processingDelayMs: 0 });
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

let runNumber = 0;

/** Runs the CLI and returns its exit code, output and the modules it loaded (paths). */
async function loads(args: string[], extra: Record<string, string> = {}, input?: string) {
  const log = join(box.dir, `loads-${++runNumber}.txt`);
  writeFileSync(log, '');
  const r = await runCli(args, {
    env: { ...box.env, ...extra, ...recording(log) },
    ...(input !== undefined ? { input } : {}),
  });
  return { ...r, modules: modulesIn(log) };
}

function recording(log: string): Record<string, string> {
  return { SYNAP_TEST_LOAD_LOG: log, NODE_OPTIONS: `--import=${HOOK}` };
}

function modulesIn(log: string): string[] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((u) => decodeURIComponent(u.replace(/^file:\/\//, '')));
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
    [['ledger', '--help']],
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
    // In a pipe: plain lines, so no table library; no config file, so no conf; no prompt,
    // spinner, CSV or SQLite.
    for (const p of ['conf', 'cli-table3', '@inquirer/prompts', 'csv-parse']) {
      expect(packages(list.modules)).not.toContain(p);
    }
    expect(packages(list.modules)).not.toContain('better-sqlite3');
    const config = await loads(['config', 'list']);
    expect(config.code).toBe(0);
    expect(packages(config.modules)).not.toContain('@inquirer/prompts');
    expect(packages(config.modules)).not.toContain('better-sqlite3');
    const input = join(box.dir, 'one.jsonl');
    writeFileSync(input, '{"document":"hello"}\n');
    // A dry run without a key knows no instance, so it has no ledger and no SQLite.
    const dry = await loads(['ingest', input, '--dry-run'], { SYNAP_BASE_URL: emu.url });
    expect(dry.code, dry.stderr).toBe(0);
    expect(packages(dry.modules)).not.toContain('better-sqlite3');
    expect(packages(dry.modules)).not.toContain('@inquirer/prompts');
    // With a key it counts only what the instance's ledger says would be sent: SQLite.
    const keyed = await loads(['ingest', input, '--dry-run'], env);
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(packages(keyed.modules)).toContain('better-sqlite3');
  });
});

describe('the start of an ingest', () => {
  /**
   * Packages an ingest of JSON Lines has no use for when nothing draws or reads a config (and
   * env-paths, with SYNAP_CONFIG_DIR naming the config dir). better-sqlite3 is not among them:
   * an ingest with a key asks the instance's ledger (SQLite) about every record, so it loads it,
   * while whoami is in flight; `--resend` runs without the ledger and loads none.
   */
  const UNUSED = ['conf', 'cli-table3', 'csv-parse', 'env-paths', '@inquirer/prompts'];
  let run = 0;
  /** A config dir of its own, not created: the cron path (SYNAP_API_KEY, no config file). */
  const fresh = () => join(box.dir, `fresh-config-${++run}`);
  const env = (configDir: string) => ({
    SYNAP_API_KEY: KEY,
    SYNAP_BASE_URL: emu.url,
    SYNAP_CONFIG_DIR: configDir,
  });
  const stored = (id: string) => emu.documents().find((d) => d.document_id === id);

  it('--json ingest of JSON Lines loads no conf, cli-table3 or csv-parse, and creates no config dir', async () => {
    const input = join(box.dir, 'small.jsonl');
    writeFileSync(
      input,
      '{"document":"one","document_id":"s-1"}\n{"document":"two","document_id":"s-2"}\n',
    );
    const dir = fresh();
    const r = await loads(['--json', 'ingest', input], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result.accepted).toBe(2);
    expect(stored('s-2')?.document).toBe('two');
    // The check sees what was loaded: the CLI's own modules, commander and the HTTP client.
    expect(own(r.modules)).toEqual(expect.arrayContaining(['session.js', 'ingest/mapper.js']));
    expect(packages(r.modules)).toContain('commander');
    for (const p of UNUSED) expect(packages(r.modules)).not.toContain(p);
    expect(packages(r.modules)).toContain('better-sqlite3');
    expect(existsSync(dir)).toBe(false);
    const resend = await loads(['--json', 'ingest', input, '--resend'], env(dir));
    expect(resend.code, resend.stderr).toBe(0);
    expect(packages(resend.modules)).not.toContain('better-sqlite3');
  });

  it('nor does a plain ingest whose stderr is a log, or one reading stdin', async () => {
    const input = join(box.dir, 'plain.jsonl');
    writeFileSync(input, '{"document":"three","document_id":"s-3"}\n');
    const dir = fresh();
    const r = await loads(['ingest', input], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('accepted: 1');
    for (const p of UNUSED) expect(packages(r.modules)).not.toContain(p);
    const piped = await loads(
      ['--quiet', 'ingest', '-'],
      env(dir),
      '{"document":"four","document_id":"s-4"}\n',
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(stored('s-4')?.document).toBe('four');
    for (const p of UNUSED) expect(packages(piped.modules)).not.toContain(p);
    expect(existsSync(dir)).toBe(false);
  });

  it('an existing config file is read through conf: the profile defaults apply', async () => {
    const dir = fresh();
    for (const [k, v] of [
      ['document_type', 'email'],
      ['mode', 'fast'],
    ]) {
      // Setup, not a start-up under test: in this process.
      expect((await runInProcess(['config', 'set', k!, v!], { env: env(dir) })).code).toBe(0);
    }
    const input = join(box.dir, 'profiled.jsonl');
    writeFileSync(input, '{"document":"five","document_id":"s-5"}\n');
    const r = await loads(['--json', 'ingest', input], env(dir));
    expect(r.code, r.stderr).toBe(0);
    expect(packages(r.modules)).toContain('conf');
    expect(stored('s-5')).toMatchObject({ document_type: 'email', mode: 'fast' });
  });

  it('reading settings creates no config dir: config list, config get, auth status', async () => {
    const dir = fresh();
    const list = await loads(['config', 'list'], env(dir));
    expect(list.code, list.stderr).toBe(0);
    expect(list.stderr).toContain(`config file: ${join(dir, 'config.json')}`);
    // What loads is not asked of these two: run in this process, as the binary would run them.
    expect((await runInProcess(['config', 'get', 'mode'], { env: env(dir) })).code).toBe(1);
    expect((await runInProcess(['auth', 'status'], { env: env(dir) })).code).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(packages(list.modules)).not.toContain('conf');
  });

  it('CSV input does not load csv-parse; a failures-file line holding a CSV row loads it (require)', async () => {
    const csv = join(box.dir, 'rows.csv');
    writeFileSync(csv, 'document,document_id\nsix,s-6\n');
    const r = await loads(['--json', 'ingest', csv], env(fresh()));
    expect(r.code, r.stderr).toBe(0);
    // The CSV reader splits rows itself (readers/csv-rows.ts).
    expect(packages(r.modules)).not.toContain('csv-parse');
    expect(stored('s-6')?.document).toBe('six');
    const failures = join(box.dir, 'retry.failures.jsonl');
    const line = {
      source: 'rows.csv',
      line: 2,
      format: 'csv',
      header: ['document', 'document_id'],
      record: 'seven,s-7',
      error: { code: 'SERVER_ERROR', message: 'retry me', status: 500 },
    };
    writeFileSync(failures, `${JSON.stringify(line)}\n`);
    const again = await loads(['--json', 'ingest', failures], env(fresh()));
    expect(again.code, again.stderr).toBe(0);
    expect(stored('s-7')?.document).toBe('seven');
    // The mapper reads the row again with csv-parse's CommonJS build, through require(): a
    // module the recorder sees in require's cache, not through the loader hook.
    expect(packages(again.modules)).toContain('csv-parse');
  });

  it.skipIf(noPty)(
    'on a terminal, a table loads cli-table3 and an ingest draws its progress',
    async () => {
      const log = join(box.dir, `loads-${++runNumber}.txt`);
      writeFileSync(log, '');
      const table = await runInPty(['memories', 'list'], {
        env: { ...box.env, ...env(fresh()), ...recording(log) },
        steps: [],
      });
      expect(table.code, table.screen).toBe(0);
      expect(table.screen).toMatch(/[┌│]/);
      expect(packages(modulesIn(log))).toContain('cli-table3');
      const input = join(box.dir, 'tty.jsonl');
      writeFileSync(input, '{"document":"eight","document_id":"s-8"}\n');
      const ingest = await runInPty(['ingest', input], {
        env: { ...box.env, ...env(fresh()) },
        steps: [],
      });
      expect(ingest.code, ingest.screen).toBe(0);
      // The progress line is drawn by src/output/live-line.ts, no package.
      expect(ingest.raw).toContain('ingesting');
    },
  );
});
