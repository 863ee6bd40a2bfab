import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { api, doc } from '../helpers/emulator.js';

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
  const documents = Array.from({ length: 7 }, (_, i) =>
    doc(`note ${i}`, {
      document_id: `n-${i}`,
      user_id: i < 5 ? 'u 1' : 'u2',
      customer_id: 'acme',
    }),
  );
  const res = await api(emu, 'POST', '/api/v1/memories/batch', {
    body: { documents, fail_fast: false },
  });
  expect(res.status).toBe(200);
  // A profile with its own base URL and key, as a user sets one up.
  const login = await runInProcess(
    ['--profile', 'ops', '--base-url', emu.url, 'auth', 'login', '--api-key-stdin'],
    { env: box.env, input: emu.apiKey },
  );
  expect(login.code, login.stderr).toBe(0);
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

/** The command a hint line suggests: what follows `marker` up to the end of its line. */
function suggested(stderr: string, marker: string): string {
  const line = stderr.split('\n').find((l) => l.includes(marker));
  expect(line, stderr).toBeDefined();
  return line!.slice(line!.indexOf(marker) + marker.length).trim();
}

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
