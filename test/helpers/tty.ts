import { spawn, spawnSync } from 'node:child_process';
import { BIN } from './cli.js';
import { assertRunLeaksNothing } from './secrets.js';

/**
 * Runs the built CLI in a real pseudo-terminal through util-linux `script`, so prompts behave as
 * for a person: raw mode, echo, masking. Each step waits for text on the screen, then types.
 */

/** Why a pty test cannot run here, or undefined when it can. */
export function ptyUnavailableReason(): string | undefined {
  if (process.platform !== 'linux') return 'pty tests use util-linux script (Linux only)';
  const r = spawnSync('script', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0 || !/util-linux/.test(r.stdout + r.stderr)) {
    return 'util-linux `script` is not installed';
  }
  return undefined;
}

export interface PtyStep {
  /** Wait until the screen output (ANSI codes stripped) matches this. */
  waitFor: RegExp;
  /** Then type this (use \r for Enter). Typed one character at a time, like a person. */
  send: string;
}

export interface PtyRun {
  code: number | null;
  /** Everything the terminal showed, ANSI escapes removed. */
  screen: string;
  /** The raw bytes as the terminal received them. */
  raw: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[()][0-9A-B]|\u001b[=>]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function runInPty(
  args: string[],
  opts: { env: Record<string, string>; steps: PtyStep[]; timeoutMs?: number },
): Promise<PtyRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SYNAP_') && k !== 'CI') env[k] = v;
  }
  Object.assign(env, { TERM: 'xterm', COLUMNS: '120', LINES: '40' }, opts.env);
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let raw = '';
    let step = 0;
    let typing = false;
    const typeNext = async () => {
      const current = opts.steps[step];
      if (typing || !current || !current.waitFor.test(stripAnsi(raw))) return;
      typing = true;
      step += 1;
      for (const ch of current.send) {
        child.stdin.write(ch);
        await new Promise((r) => setTimeout(r, 5));
      }
      typing = false;
      void typeNext();
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      raw += d;
      void typeNext();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (raw += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const screen = stripAnsi(raw);
      try {
        // What the terminal showed, typed input included: a masked prompt must not echo a key.
        assertRunLeaksNothing(args, env, { stdout: screen, stderr: '' });
      } catch (err) {
        reject(err as Error);
        return;
      }
      resolve({ code, screen, raw });
    });
  });
}
