import { cpSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, makeSandbox, runShell } from '../helpers/cli.js';

/*
 * Every command in docs/sources.md's sh blocks, run as written (`npx synap` is the built
 * binary) in a scratch folder holding a copy of samples/, against the embedded emulator.
 */

const ROOT = resolve(import.meta.dirname, '../..');

function docCommands(): string[] {
  const doc = readFileSync(join(ROOT, 'docs', 'sources.md'), 'utf8');
  const out: string[] = [];
  for (const block of doc.matchAll(/```sh\n([\s\S]*?)```/g))
    for (const line of block[1]!.split('\n')) if (line.trim() !== '') out.push(line.trim());
  return out;
}

describe('docs/sources.md examples', () => {
  const sandbox = makeSandbox();
  cpSync(join(ROOT, 'samples'), join(sandbox.dir, 'samples'), { recursive: true });
  afterAll(() => sandbox.cleanup());

  it('has examples for ChatGPT, Claude and the checks', () => {
    const commands = docCommands();
    expect(commands.some((c) => c.includes('chatgpt-export.zip'))).toBe(true);
    expect(commands.some((c) => c.includes('claude-export'))).toBe(true);
    expect(commands.some((c) => c.includes('--strict'))).toBe(true);
  });

  it('has examples for mail, transcripts, notes and Slack', () => {
    const commands = docCommands();
    for (const part of ['.mbox', '.eml', '.vtt', '.srt', 'samples/notes', 'slack-export'])
      expect(
        commands.some((c) => c.includes(part)),
        part,
      ).toBe(true);
  });

  for (const command of docCommands()) {
    it(
      command,
      async () => {
        expect(command.startsWith('npx synap ')).toBe(true);
        const r = await runShell(command.replace(/^npx synap /, `node ${JSON.stringify(BIN)} `), {
          env: sandbox.env,
          cwd: sandbox.dir,
          timeoutMs: 60_000,
        });
        expect(r.code, r.stderr).toBe(0);
        if (command.includes('--show'))
          expect(r.stderr).toMatch(
            /the first (document, as it|\d+ documents, as they) would be sent \(on stdout\)/,
          );
        if (command.includes('export.zip'))
          expect(r.stderr).toMatch(/note: samples\/\w+-export\.zip: reading conversations\.json/);
      },
      60_000,
    );
  }
});
