import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, runCli } from '../helpers/cli.js';

let box: ReturnType<typeof makeSandbox>;
let script: string;
const hasBash = spawnSync('bash', ['--version']).status === 0;

beforeAll(async () => {
  box = makeSandbox();
  // `synap` on PATH, as after `npm i -g`, so the script can ask for profile names.
  const binDir = join(box.dir, 'bin');
  mkdirSync(binDir);
  writeFileSync(join(binDir, 'synap'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(binDir, 'synap'), 0o755);
  for (const p of ['staging', 'prod']) {
    await runCli(['--profile', p, 'config', 'set', 'batch_size', '10'], { env: box.env });
  }
  const r = await runCli(['completion', 'bash'], { env: box.env });
  expect(r.code).toBe(0);
  script = join(box.dir, 'synap.bash');
  writeFileSync(script, r.stdout);
});
afterAll(() => box.cleanup());

/** Runs the completion function for a command line (the last word is the one being completed). */
function complete(line: string): string[] {
  const words = line.split(' ');
  const bash = `source ${JSON.stringify(script)}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')})
COMP_CWORD=${words.length - 1}
_synap_complete
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '-c', bash], {
    env: { ...process.env, ...box.env, PATH: `${join(box.dir, 'bin')}:${process.env.PATH}` },
    encoding: 'utf8',
    cwd: box.dir,
  });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean).sort();
}

describe.skipIf(!hasBash)('synap completion bash', () => {
  it('completes top-level commands and global options', () => {
    expect(complete('synap ')).toEqual(
      expect.arrayContaining(['auth', 'config', 'memories', 'completion']),
    );
    expect(complete('synap co')).toEqual(['completion', 'config']);
    expect(complete('synap ')).not.toContain('--json'); // options only after a dash
    expect(complete('synap --pro')).toEqual(['--profile']);
  });

  it('completes subcommands and their options, past global options', () => {
    expect(complete('synap --json memories ')).toEqual(
      expect.arrayContaining(['list', 'get', 'update', 'delete', 'status']),
    );
    expect(complete('synap memories list --page')).toEqual(['--page', '--page-size']);
    expect(complete('synap memories update x --merge-strategy ')).toEqual([
      'append',
      'replace',
      'smart-merge',
    ]);
    expect(complete('synap auth ')).toEqual(['login', 'logout', 'status']);
  });

  it('completes profile names read at completion time', () => {
    expect(complete('synap --profile ')).toEqual(['prod', 'staging']);
    expect(complete('synap --profile st')).toEqual(['staging']);
  });
});

describe('synap completion', () => {
  it('prints zsh and fish scripts that know the commands and profiles', async () => {
    const zsh = await runCli(['completion', 'zsh'], { env: box.env });
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = await runCli(['completion', 'fish'], { env: box.env });
    expect(fish.code).toBe(0);
    expect(fish.stdout).toContain("-a 'memories'");
    expect(fish.stdout).toContain('synap config profiles');
    if (spawnSync('fish', ['--version']).status === 0) {
      const check = spawnSync('fish', ['--no-execute', '-c', fish.stdout], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
    if (spawnSync('zsh', ['--version']).status === 0) {
      const check = spawnSync('zsh', ['-n', '-c', zsh.stdout], { encoding: 'utf8' });
      expect(check.status, check.stderr).toBe(0);
    }
  });

  it('refuses an unknown shell (exit 2) and has examples in --help', async () => {
    expect((await runCli(['completion', 'tcsh'], { env: box.env })).code).toBe(2);
    const help = await runCli(['completion', '--help'], { env: box.env });
    expect(help.stdout).toMatch(/Examples:\n(\s+\$ .*synap .+\n){2,3}$/);
  });
});
