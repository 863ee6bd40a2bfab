import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { seedHints, suggested } from '../helpers/fixtures/hints.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

/**
 * Every command a hint suggests is the user's own command line with only what must change
 * changed, quoted for the shell. The proof: the suggested line is run as it is, through bash,
 * and does what it says (the next page of the same filtered listing of the same profile; the
 * failures file retried with the same --map into the same profile or the --local emulator).
 */

let emu: RunningEmulator;
let box: ReturnType<typeof makeSandbox>;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, processingDelayMs: 0 });
  box = makeSandbox();
  await seedHints(runInProcess, emu, box);
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

describe('hints suggest the user’s own command line', () => {
  it('--local stays in the suggestion (the retry goes to the same local emulator)', async () => {
    const input = join(box.dir, 'local.jsonl');
    writeFileSync(input, '{"text":"kept"}\n{"text":""}\n');
    const r = await runInProcess(['ingest', input, '--local', '--map', 'document=text'], {
      env: box.env,
    });
    expect(r.code, r.stderr).toBe(3);
    const retry = suggested(r.stderr, 'Fix them and run: ');
    expect(retry).toBe(`synap ingest ${input}.failures.jsonl --local --map document=text`);
  });

  it('memories delete without a terminal: the hint is the same command with --yes', async () => {
    const r = await runInProcess(['--profile', 'ops', 'memories', 'delete', 'some-id'], {
      env: box.env,
    });
    expect(r.code).toBe(2);
    expect(suggested(r.stderr, 'To delete without being asked: ')).toBe(
      'synap --profile ops memories delete some-id --yes',
    );
  });
});
