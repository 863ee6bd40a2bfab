import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { assertRunLeaksNothing } from './secrets.js';

/**
 * Runs the built CLI (or a shell) in a real pseudo-terminal through util-linux `script`, so it
 * behaves as for a person: stdin and stderr are a terminal, raw mode, echo and masking work,
 * Ctrl-C typed as \x03 reaches the foreground processes as SIGINT from the terminal driver.
 *
 * The CLI runs under a small node parent that ignores SIGINT and SIGTERM and records how the
 * CLI ended (exit code, or the signal that killed it: `script -e` alone reports both as
 * 128 + n), its pid (to send it SIGTERM), and, with `stdoutToPipe`, its stdout, which then goes
 * to a pipe as in `synap … | cat` typed at a terminal.
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

const ANSI =
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)|\u001b[()][0-9A-B]|\u001b[=>]/g;

export function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}

/**
 * What the terminal shows, line by line: carriage returns, backspaces and the cursor moves and
 * erasures shells use to redraw a command line are applied; other escape codes are dropped.
 */
function screenText(raw: string): string {
  const out: string[] = [];
  let line: string[] = [];
  let col = 0;
  const token =
    // eslint-disable-next-line no-control-regex
    /\u001b\[([0-9;?]*)([ -/]*[@-~])|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][0-9A-B]|\u001b[=>]|[\s\S]/gu;
  for (const m of raw.matchAll(token)) {
    const [all, params = '', final] = m;
    if (final !== undefined) {
      const n = Number(params.split(';')[0]) || 1;
      if (final === 'K') line = line.slice(0, col);
      else if (final === 'C') col += n;
      else if (final === 'D') col = Math.max(0, col - n);
      else if (final === 'G') col = n - 1;
      continue;
    }
    if (all.startsWith('\u001b')) continue;
    if (all === '\n') {
      out.push(line.join('').trimEnd());
      line = [];
      col = 0;
    } else if (all === '\r') col = 0;
    else if (all === '\b') col = Math.max(0, col - 1);
    else if (all >= ' ') {
      while (line.length < col) line.push(' ');
      line[col] = all;
      col += 1;
    }
  }
  out.push(line.join('').trimEnd());
  return out.join('\n');
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The OSC number of the marker the reporter writes where the terminal was resized. */
const RESIZE_MARK = 7701;

/** The parent of the CLI in the terminal (see the file comment). */
const REPORTER = `
const { spawn, spawnSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const [statusFile, pipeOut, cmd, ...args] = process.argv.slice(1);
for (const s of ['SIGINT', 'SIGTERM', 'SIGQUIT']) process.on(s, () => {});
writeFileSync(statusFile + '.reporter', String(process.pid));
const child = spawn(cmd, args, { stdio: ['inherit', pipeOut === '1' ? 'pipe' : 'inherit', 'inherit'] });
writeFileSync(statusFile + '.pid', String(child.pid));
const out = [];
if (child.stdout) child.stdout.on('data', (d) => out.push(d));
let ended;
child.on('exit', (code, signal) => (ended = { code, signal }));
// A resize asked for by the test. The CLI is held still meanwhile, so the marker (which no
// terminal shows) lands exactly between what it drew before and what it draws after; the
// size then changes, and the CLI gets its SIGWINCH as it goes on.
process.on('SIGUSR1', () => {
  const [cols, rows] = readFileSync(statusFile + '.size', 'utf8').split(' ');
  const hold = (sig) => { try { process.kill(child.pid, sig); } catch {} };
  hold('SIGSTOP');
  // Stopped for sure (state T), so no write of its own is still under way.
  for (let i = 0; i < 1000; i++) {
    let state = '';
    try { state = readFileSync('/proc/' + child.pid + '/stat', 'utf8').split(') ')[1][0]; } catch {}
    if (state === 'T' || state === '') break;
    spawnSync('sleep', ['0.001']);
  }
  process.stdout.write('\\u001b]${RESIZE_MARK};' + cols + ';' + rows + '\\u0007');
  spawnSync('stty', ['cols', cols, 'rows', rows], { stdio: ['inherit', 'ignore', 'ignore'] });
  hold('SIGCONT');
});
child.on('close', () => {
  writeFileSync(statusFile, JSON.stringify({ ...ended, stdout: Buffer.concat(out).toString('utf8') }));
  process.exit(0);
});
`;

export interface PtyOptions {
  env: Record<string, string>;
  cwd?: string;
  /** Terminal size (default 120 x 40). */
  columns?: number;
  rows?: number;
  /** stdout goes to a pipe read by the test (`synap … | cat`); stderr stays the terminal. */
  stdoutToPipe?: boolean;
  /** The whole run is killed after this long (default 30 s). */
  timeoutMs?: number;
}

export interface PtyRun {
  /** The CLI's exit code; null when a signal killed it. */
  code: number | null;
  /** The signal that killed the CLI, if one did. */
  signal: NodeJS.Signals | null;
  /** Everything the terminal showed, ANSI escapes removed, redrawn lines collapsed. */
  screen: string;
  /** The raw bytes as the terminal received them. */
  raw: string;
  /** With stdoutToPipe: what the CLI wrote to stdout. */
  stdout: string;
}

/** A running pseudo-terminal session a test drives step by step. */
export interface PtySession {
  /** Resolves when the screen (ANSI stripped) matches; rejects after `timeoutMs` (default 20 s). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Types text one character at a time, like a person (\r is Enter, \x03 is Ctrl-C). */
  type(text: string): Promise<void>;
  /** Sends a signal to the CLI process itself (not through the terminal). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Changes the terminal's size, as dragging a window's edge does (the CLI gets SIGWINCH);
   * resolves once the change is in the output, where `terminalScreen` applies it.
   */
  resize(columns: number, rows: number): Promise<void>;
  /** The raw bytes so far. */
  raw(): string;
  /** What the screen shows so far. */
  screen(): string;
  /** Resolves when the terminal session ends. */
  done(): Promise<PtyRun>;
}

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('SYNAP_') || k === 'CI') continue;
    // The terminal decides colour here, as for a person: no inherited overrides.
    if (k === 'NO_COLOR' || k === 'FORCE_COLOR' || k === 'COLUMNS' || k === 'LINES') continue;
    env[k] = v;
  }
  return { ...env, TERM: 'xterm-256color', ...extra };
}

function startScript(
  command: string,
  opts: {
    env: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
    pidFile?: string;
    statusFile?: string;
  },
  finish: (raw: string) => PtyRun,
  checkLeaks: (screen: string) => void,
): PtySession {
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let raw = '';
  const watchers = new Set<() => void>();
  const onData = (d: string) => {
    raw += d;
    for (const w of [...watchers]) w();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  child.stdin.on('error', () => {});
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const ended = new Promise<PtyRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      for (const w of [...watchers]) w();
      try {
        const run = finish(raw);
        checkLeaks(run.screen);
        resolve(run);
      } catch (err) {
        reject(err as Error);
      }
    });
  });
  let closed = false;
  void ended.finally(() => (closed = true)).catch(() => {});
  return {
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stripAnsi(raw))) {
            cleanup();
            resolve();
          } else if (closed) {
            cleanup();
            reject(
              new Error(`terminal closed before ${pattern} appeared; screen:\n${stripAnsi(raw)}`),
            );
          }
        };
        const t = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; screen:\n${stripAnsi(raw)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(t);
          watchers.delete(check);
        };
        watchers.add(check);
        check();
      });
    },
    async type(text) {
      for (const ch of text) {
        child.stdin.write(ch);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    kill(signal) {
      if (!opts.pidFile) throw new Error('no CLI pid in a plain pty session');
      process.kill(Number(readFileSync(opts.pidFile, 'utf8')), signal);
    },
    async resize(columns, rows) {
      if (!opts.statusFile) throw new Error('no reporter in a plain pty session');
      const marks = raw.split(`\u001b]${RESIZE_MARK};`).length;
      writeFileSync(`${opts.statusFile}.size`, `${columns} ${rows}`);
      process.kill(Number(readFileSync(`${opts.statusFile}.reporter`, 'utf8')), 'SIGUSR1');
      const deadline = Date.now() + 5000;
      while (raw.split(`\u001b]${RESIZE_MARK};`).length === marks) {
        if (Date.now() > deadline || closed) throw new Error('the terminal was not resized');
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    raw: () => raw,
    screen: () => screenText(raw),
    done: () => ended,
  };
}

function scriptOptions(
  env: Record<string, string>,
  opts: Pick<PtyOptions, 'cwd' | 'timeoutMs'>,
  statusFile?: string,
): {
  env: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  pidFile?: string;
  statusFile?: string;
} {
  return {
    env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(statusFile ? { pidFile: `${statusFile}.pid`, statusFile } : {}),
  };
}

/**
 * What a terminal of `columns` x `rows` shows after `raw` (the whole scrollback, one string a
 * row), as xterm.js draws it: lines wrap at the edge, cursor moves and erasures apply, and the
 * resizes `PtySession.resize` made happen where they happened, reflowing wrapped lines (the
 * cursor's line too, as most terminals do). A size of 0 is drawn as 80 x 24, which is what a
 * terminal that reports 0 x 0 shows.
 */
export async function terminalScreen(
  raw: string,
  columns: number,
  rows: number,
): Promise<string[]> {
  const { default: xterm } = await import('@xterm/headless');
  const term = new xterm.Terminal({
    cols: columns || 80,
    rows: rows || 24,
    scrollback: 100_000,
    allowProposedApi: true,
    reflowCursorLine: true,
  });
  const write = (data: string) => new Promise<void>((r) => term.write(data, r));
  const mark = new RegExp(`\u001b\\]${RESIZE_MARK};(\\d+);(\\d+)\u0007`, 'g');
  let at = 0;
  for (const m of raw.matchAll(mark)) {
    await write(raw.slice(at, m.index));
    term.resize(Number(m[1]) || 80, Number(m[2]) || 24);
    at = m.index + m[0].length;
  }
  await write(raw.slice(at));
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++)
    lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
  term.dispose();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Starts `synap <args>` in a pseudo-terminal. */
export function startCliInPty(args: string[], opts: PtyOptions): PtySession {
  const env = baseEnv(opts.env);
  const dir = mkdtempSync(join(tmpdir(), 'synap-pty-'));
  const statusFile = join(dir, 'status.json');
  const size = `stty cols ${opts.columns ?? 120} rows ${opts.rows ?? 40}`;
  const argv = [
    process.execPath,
    '-e',
    REPORTER,
    statusFile,
    opts.stdoutToPipe ? '1' : '0',
    process.execPath,
    BIN,
    ...args,
  ];
  const command = `${size}; exec ${argv.map(shellQuote).join(' ')}`;
  return startScript(
    command,
    scriptOptions(env, opts, statusFile),
    (raw) => {
      let status: { code: number | null; signal: NodeJS.Signals | null; stdout: string } = {
        code: null,
        signal: null,
        stdout: '',
      };
      try {
        status = JSON.parse(readFileSync(statusFile, 'utf8')) as typeof status;
      } catch {
        // The run was killed before the CLI ended (timeout): code and signal stay null.
      }
      rmSync(dir, { recursive: true, force: true });
      return {
        code: status.code ?? null,
        signal: status.signal ?? null,
        screen: screenText(raw),
        raw,
        stdout: status.stdout,
      };
    },
    (screen) => assertRunLeaksNothing(args, env, { stdout: screen, stderr: '' }),
  );
}

/** Starts any command line (e.g. an interactive shell) in a pseudo-terminal, no reporter. */
export function startShellInPty(
  argv: string[],
  opts: Omit<PtyOptions, 'stdoutToPipe'>,
): PtySession {
  const env = baseEnv(opts.env);
  const size = `stty cols ${opts.columns ?? 120} rows ${opts.rows ?? 40}`;
  const command = `${size}; exec ${argv.map(shellQuote).join(' ')}`;
  return startScript(
    command,
    scriptOptions(env, opts),
    (raw) => ({ code: null, signal: null, screen: screenText(raw), raw, stdout: '' }),
    () => {},
  );
}

export interface PtyStep {
  /** Wait until the screen output (ANSI codes stripped) matches this. */
  waitFor: RegExp;
  /** Then type this (use \r for Enter, \x03 for Ctrl-C). Typed one character at a time. */
  send: string;
}

/** Runs `synap <args>` in a pseudo-terminal through a fixed list of wait-then-type steps. */
export async function runInPty(
  args: string[],
  opts: PtyOptions & { steps: PtyStep[] },
): Promise<PtyRun> {
  const session = startCliInPty(args, opts);
  const ended = session.done();
  try {
    for (const step of opts.steps) {
      await session.waitFor(step.waitFor);
      await session.type(step.send);
    }
  } catch (err) {
    await ended.catch(() => undefined);
    throw err;
  }
  return ended;
}
