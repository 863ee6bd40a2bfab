import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_FORMATS } from '../../src/ingest/formats/index.js';
import { BIN, makeSandbox, runCli } from '../helpers/cli.js';
import { ptyUnavailableReason, startShellInPty } from '../helpers/tty.js';

/**
 * Completion in the real shells, with `synap` on PATH as after `npm i -g`: bash (its
 * completion function, and readline in a terminal), zsh (compsys in a terminal) and fish (its
 * own completion engine). A shell that is not installed is skipped, with the reason printed
 * (CI installs none; `apt-get install zsh fish` here).
 */

let box: ReturnType<typeof makeSandbox>;
const scripts: Record<string, string> = {};
let binDir: string;
let work: string;

function has(shell: string): boolean {
  return spawnSync(shell, ['--version']).status === 0;
}
const noPty = ptyUnavailableReason();
const missing = (shell: string): string | undefined =>
  !has(shell) ? `${shell} is not installed` : undefined;
for (const shell of ['bash', 'zsh', 'fish']) {
  const why = missing(shell);
  if (why) console.log(`skipping ${shell} completion tests: ${why}`);
}
if (noPty) console.log(`skipping completion tests in a terminal: ${noPty}`);

function shellEnv(): Record<string, string> {
  return {
    ...box.env,
    PATH: `${binDir}:${process.env.PATH}`,
  };
}

beforeAll(async () => {
  box = makeSandbox();
  binDir = join(box.dir, 'bin');
  mkdirSync(binDir);
  writeFileSync(join(binDir, 'synap'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(binDir, 'synap'), 0o755);
  for (const p of ['staging', 'prod']) {
    await runCli(['--profile', p, 'config', 'set', 'batch_size', '10'], { env: box.env });
  }
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['completion', shell], { env: box.env });
    expect(r.code, r.stderr).toBe(0);
    scripts[shell] = join(box.dir, `synap.${shell}`);
    writeFileSync(scripts[shell]!, r.stdout);
  }
  // A working directory with a file and a directory whose names share a prefix.
  work = join(box.dir, 'work');
  mkdirSync(join(work, 'subdir'), { recursive: true });
  writeFileSync(join(work, 'data.jsonl'), '{"document":"x"}\n');
  mkdirSync(join(box.dir, 'zfunc'));
  writeFileSync(join(box.dir, 'zfunc', '_synap'), (await runCli(['completion', 'zsh'])).stdout);
});
afterAll(() => box.cleanup());

/** bash: runs the completion function for a command line (the last word is being completed). */
function bashComplete(line: string): string[] {
  const words = line.split(' ');
  const script = `source ${JSON.stringify(scripts.bash)}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})
COMP_CWORD=${words.length - 1}
_synap_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', script], {
    env: { ...process.env, ...shellEnv() },
    encoding: 'utf8',
    cwd: work,
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

/** fish: what its completion engine offers for a command line (values only, sorted). */
function fishComplete(line: string): string[] {
  const r = spawnSync(
    'fish',
    ['--no-config', '-c', `source ${scripts.fish}; complete -C ${JSON.stringify(line)}`],
    { env: { ...process.env, ...shellEnv() }, encoding: 'utf8', cwd: work },
  );
  expect(r.stderr).toBe('');
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!)
    .sort();
}

/** The same expectations hold in every shell that completes through a function call. */
const cases: [string, string[] | ((got: string[]) => void)][] = [
  ['synap co', ['completion', 'config']],
  ['synap completion ', ['bash', 'fish', 'zsh']],
  [
    'synap --json memories ',
    (got) => expect(got).toEqual(expect.arrayContaining(['list', 'get', 'status'])),
  ],
  ['synap memories list --page', ['--page', '--page-size']],
  ['synap --pro', ['--profile']],
  ['synap memories update x --merge-strategy ', ['append', 'replace', 'smart-merge']],
  [
    'synap config set ',
    ['base_url', 'batch_size', 'concurrency', 'document_type', 'mode', 'page_size'],
  ],
  ['synap config get page', ['page_size']],
  ['synap config set mode ', ['fast', 'long-range']],
  // Every registry format (rows, conversation exports, the sources).
  ['synap ingest data.jsonl --format ', [...INPUT_FORMATS]],
  ['synap ingest data.jsonl --mode ', ['fast', 'long-range']],
  ['synap migrate --from a --to b --document-type me', ['meeting-transcript']],
  ['synap --profile ', ['prod', 'staging']],
  ['synap migrate --from st', ['staging']],
  ['synap ingest da', ['data.jsonl']],
  ['synap memories get ', []],
];

describe.skipIf(!has('bash'))('bash completion (the function)', () => {
  it.each(cases)('%s', (line, expected) => {
    const got = bashComplete(line);
    if (typeof expected === 'function') expected(got);
    else expect(got).toEqual([...expected].sort());
  });
  it('offers options only after a dash', () => {
    expect(bashComplete('synap ')).not.toContain('--json');
  });
});

describe.skipIf(!has('fish'))('fish completion (fish itself)', () => {
  it.each(cases)('%s', (line, expected) => {
    const got = fishComplete(line);
    if (typeof expected === 'function') expected(got);
    else expect(got).toEqual([...expected].sort());
  });
  it('completes a directory with its slash, ready for the next part of the path', () => {
    expect(fishComplete('synap ingest sub')).toEqual(['subdir/']);
    expect(fishComplete('synap export -o sub')).toEqual(['subdir/']);
  });
});

/** Types a line up to the Tab and reads the command line the shell then shows. */
async function afterTab(
  shell: string[],
  setup: string[],
  typed: string,
): Promise<{ line: string; screen: string }> {
  const t = startShellInPty(shell, {
    env: { ...shellEnv(), PS1: 'READY> ', PROMPT: 'READY> ' },
    cwd: work,
  });
  const ended = t.done();
  try {
    for (const cmd of ["PS1='READY> '", ...setup]) await t.type(`${cmd}\r`);
    await t.type(`echo SETUP-DONE\r`);
    await t.waitFor(/^SETUP-DONE/m, 20_000);
    await t.type(`${typed}\t`);
    // Wait for the shell to extend the line (it asks synap first), then mark its end.
    const lastPrompt = () =>
      t
        .screen()
        .split('\n')
        .filter((l) => l.startsWith('READY> '))
        .pop() ?? '';
    for (let waited = 0; lastPrompt().length <= `READY> ${typed}`.length; waited += 50) {
      if (waited > 20_000) throw new Error(`no completion for "${typed}":\n${t.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await t.type('#END');
    await t.waitFor(/#END/, 20_000);
    const screen = t.screen();
    const last =
      screen
        .split('\n')
        .filter((l) => l.includes('#END'))
        .pop() ?? '';
    return { line: last.replace(/^.*?READY> /, ''), screen };
  } finally {
    await t.type('\x03exit\r');
    await ended.catch(() => undefined);
  }
}

describe.skipIf(noPty || !has('bash'))('bash completion in a terminal (readline)', () => {
  it('completes a directory with "/" and no trailing space, a file with a space', async () => {
    const setup = [`source ${scripts.bash}`];
    expect((await afterTab(['bash', '--norc', '-i'], setup, 'synap ingest sub')).line).toBe(
      'synap ingest subdir/#END',
    );
    expect((await afterTab(['bash', '--norc', '-i'], setup, 'synap ingest da')).line).toBe(
      'synap ingest data.jsonl #END',
    );
    expect((await afterTab(['bash', '--norc', '-i'], setup, 'synap completion f')).line).toBe(
      'synap completion fish #END',
    );
  }, 60_000);
});

describe.skipIf(noPty || !has('zsh'))('zsh completion in a terminal (compsys)', () => {
  const setup = () => [
    `fpath=(${join(box.dir, 'zfunc')} $fpath)`,
    'autoload -Uz compinit && compinit -u -D',
  ];
  it('completes values, and a directory with "/" and no trailing space', async () => {
    const zsh = ['zsh', '-f', '-i'];
    expect((await afterTab(zsh, setup(), 'synap completion f')).line).toBe(
      'synap completion fish #END',
    );
    expect((await afterTab(zsh, setup(), 'synap config set mo')).line).toBe(
      'synap config set mode #END',
    );
    expect((await afterTab(zsh, setup(), 'synap ingest x --format tsv --mode long')).line).toBe(
      'synap ingest x --format tsv --mode long-range #END',
    );
    expect((await afterTab(zsh, setup(), 'synap ingest sub')).line).toBe(
      'synap ingest subdir/#END',
    );
    expect((await afterTab(zsh, setup(), 'synap --profile st')).line).toBe(
      'synap --profile staging #END',
    );
  }, 90_000);
});

describe('synap completion', () => {
  it('prints scripts that every installed shell accepts', async () => {
    for (const [shell, check] of [
      ['bash', ['-n']],
      ['zsh', ['-n']],
      ['fish', ['--no-execute']],
    ] as const) {
      if (!has(shell)) continue;
      const r = spawnSync(shell, [...check, scripts[shell]!], { encoding: 'utf8' });
      expect(r.status, `${shell}: ${r.stderr}`).toBe(0);
    }
  });

  it('refuses an unknown shell (exit 2) and has examples in --help', async () => {
    expect((await runCli(['completion', 'tcsh'], { env: box.env })).code).toBe(2);
    const help = await runCli(['completion', '--help'], { env: box.env });
    expect(help.stdout).toMatch(/Examples:\n(\s+\$ .*synap .+\n){2,3}$/);
  });

  it('keeps its helper command out of help and completion', async () => {
    const help = await runCli(['--help'], { env: box.env });
    expect(help.stdout).not.toContain('__complete');
    const r = await runCli(['__complete', '--', ''], { env: box.env });
    expect(r.stdout).not.toContain('__complete');
  });
});
