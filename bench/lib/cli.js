// Runs the built CLI (bin/synap.js) as a user would, in a child process, and measures it: wall
// time, CPU time and peak RSS of the child (via /usr/bin/time when present, otherwise via a
// preloaded hook that reports process.resourceUsage() at exit).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const BIN = new URL('../../bin/synap.js', import.meta.url).pathname;
const RUSAGE_HOOK = new URL('./rusage-hook.js', import.meta.url).href;
const GNU_TIME = '/usr/bin/time';
const haveGnuTime = existsSync(GNU_TIME);

/** Environment of a user with a clean home under `dir`: no inherited SYNAP_* or config. */
export function cleanEnv(dir, extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SYNAP_')) env[k] = v;
  }
  mkdirSync(join(dir, 'home'), { recursive: true });
  Object.assign(env, {
    HOME: join(dir, 'home'),
    SYNAP_CONFIG_DIR: join(dir, 'home', 'config'),
    XDG_CONFIG_HOME: join(dir, 'home', 'xdg-config'),
    XDG_DATA_HOME: join(dir, 'home', 'data'),
    NO_COLOR: '1',
    ...extra,
  });
  return env;
}

let runCounter = 0;

/**
 * Spawns `node [script] args` (script defaults to bin/synap.js) and resolves when it exits.
 * @returns {Promise<{ code: number|null, signal: string|null, stdout: string, stderr: string,
 *   startedAt: number, wallMs: number, cpuMs: number, maxRssMb: number, json?: any }>}
 *   (`startedAt`: epoch ms of the spawn, on the clock of the emulator's request log)
 */
export function runNode(
  args,
  { env, cwd, script = BIN, timeoutMs = 600_000, stdout = 'pipe' } = {},
) {
  const rusageFile = join(cwd ?? process.cwd(), `.rusage-${process.pid}-${++runCounter}`);
  const nodeArgs = haveGnuTime ? [script, ...args] : ['--import', RUSAGE_HOOK, script, ...args];
  const command = haveGnuTime ? GNU_TIME : process.execPath;
  const commandArgs = haveGnuTime
    ? ['-o', rusageFile, '-f', '%e %U %S %M', process.execPath, ...nodeArgs]
    : nodeArgs;
  const childEnv = haveGnuTime ? env : { ...env, BENCH_RUSAGE_FILE: rusageFile };
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Epoch ms, comparable with the emulator thread's request log.
    const startedAt = performance.timeOrigin + started;
    const child = spawn(command, commandArgs, {
      cwd,
      env: childEnv,
      stdio: ['ignore', stdout, 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - started;
      let cpuMs = NaN;
      let maxRssMb = NaN;
      try {
        const text = readFileSync(rusageFile, 'utf8').trim().split('\n').pop();
        if (haveGnuTime) {
          const [, user, sys, rssKb] = text.split(/\s+/).map(Number);
          cpuMs = (user + sys) * 1000;
          maxRssMb = rssKb / 1024;
        } else {
          const r = JSON.parse(text);
          cpuMs = (r.userCPUTime + r.systemCPUTime) / 1000;
          maxRssMb = r.maxRSS / 1024;
        }
      } catch {
        // no resource figures (killed before exit); leave NaN
      }
      let json;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(out);
        } catch {
          // not JSON (an error); the caller reports stderr
        }
      }
      resolve({ code, signal, stdout: out, stderr: err, startedAt, wallMs, cpuMs, maxRssMb, json });
    });
  });
}

/**
 * `synap ARGS` against an emulator (SYNAP_BASE_URL / SYNAP_API_KEY set from `emu`); `script`:
 * another build's bin/synap.js (a side-by-side comparison).
 */
export function runSynap(
  args,
  { dir, emu, cwd, timeoutMs, stdout, script, env: extraEnv = {} } = {},
) {
  const env = cleanEnv(dir, {
    ...(emu ? { SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey } : {}),
    ...extraEnv,
  });
  return runNode(args, { env, cwd: cwd ?? dir, timeoutMs, stdout, script });
}

/** The `result` object of an ingest/export `--json` summary, or a descriptive error. */
export function summaryOf(run, what) {
  const result = run.json?.result ?? run.json;
  if (!result || typeof result !== 'object') {
    throw new Error(
      `${what} exited ${run.code} without a JSON summary:\n${run.stderr.slice(-2000)}`,
    );
  }
  return result;
}
