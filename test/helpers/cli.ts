import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertRunLeaksNothing, filesWithSecrets } from './secrets.js';

export const BIN = resolve(import.meta.dirname, '../../bin/synap.js');

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment; the run never inherits the developer's SYNAP_* variables or config. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then stdin is closed. */
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs one synap command: runCli (a spawned binary) or runInProcess (test/helpers/in-process.ts). */
export type Runner = (args: string[], opts?: RunOptions) => Promise<CliRun>;

/**
 * A throwaway home for one test file: its own config dir and data dir, so no test touches the
 * user's real profiles or the embedded emulator's database. Cleanup first checks that no file
 * the test left (failures, state, exports, logs) holds an API key.
 */
export function makeSandbox(): { dir: string; env: Record<string, string>; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'synap-test-'));
  return {
    dir,
    env: {
      SYNAP_CONFIG_DIR: join(dir, 'config'),
      XDG_DATA_HOME: join(dir, 'data'),
      XDG_CONFIG_HOME: join(dir, 'xdg-config'),
      HOME: dir,
    },
    cleanup: () => {
      const leaks = filesWithSecrets(dir);
      rmSync(dir, { recursive: true, force: true });
      if (leaks.length > 0) throw new Error(`secret leak in files: ${leaks.join('; ')}`);
    },
  };
}

/** A CLI process started by spawnCli. */
export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process has closed (rejects if its output held an API key). */
  done: Promise<CliRun>;
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
}

/** The environment of a run: this process's, without the developer's SYNAP_* variables, plus `extra`. */
export function runEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SYNAP_')) env[k] = v;
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/**
 * Starts a command with no TTY and returns at once, so a test can watch it and signal it
 * mid-run. `done` checks, like every run, that nothing printed an API key (see secrets.ts).
 * With `shell`, `args` is one bash script (pipelines such as `synap export | head -1`).
 */
export function spawnCli(args: string[], opts: RunOptions & { shell?: boolean } = {}): CliProcess {
  const env = runEnv(opts.env);
  const [command, argv] = opts.shell
    ? [
        'bash',
        [
          '-c',
          `set -o pipefail; synap() { "${process.execPath}" "${BIN}" "$@"; }; ${args.join(' ')}`,
        ],
      ]
    : [process.execPath, [BIN, ...args]];
  const child = spawn(command, argv, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      try {
        assertRunLeaksNothing(args, env, { stdout, stderr });
      } catch (err) {
        reject(err as Error);
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
  child.stdin.on('error', () => {});
  if (opts.input !== undefined) child.stdin.end(opts.input);
  else child.stdin.end();
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/**
 * Runs the built CLI (bin/synap.js → dist/) as a user would, with no TTY, and waits for it.
 * Rejects if the run printed an API key (see secrets.ts).
 */
export function runCli(args: string[], opts: RunOptions = {}): Promise<CliRun> {
  return spawnCli(args, opts).done;
}

/** Runs a bash pipeline such as `synap export | head -1`, where `synap` is the built CLI. */
export function runShell(script: string, opts: RunOptions = {}): Promise<CliRun> {
  return spawnCli([script], { ...opts, shell: true }).done;
}
