import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { seedHints, suggested } from '../helpers/fixtures/hints.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';

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
  await seedHints(runCli, emu, box);
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

describe('hints suggest the user’s own command line', () => {
  it('memories list: the next-page command keeps --page-size, --user-id and --profile, and runs', async () => {
    const args = ['memories', 'list', '--page-size', '2', '--user-id', 'u 1', '--profile', 'ops'];
    const first = await runCli(args, { env: box.env });
    expect(first.code, first.stderr).toBe(0);
    const next = suggested(first.stderr, 'next page: ');
    expect(next).toBe("synap memories list --page-size 2 --user-id 'u 1' --profile ops --page 2");
    // Run exactly what was suggested, as a person pasting it would.
    const second = await runShell(`${next} --json`, { env: box.env });
    expect(second.code, second.stderr).toBe(0);
    const page = JSON.parse(second.stdout).result;
    expect(page.page).toBe(2);
    expect(page.total).toBe(5);
    expect(page.data.map((m: { user_id: string }) => m.user_id)).toEqual(['u 1', 'u 1']);
    const third = suggested((await runShell(next, { env: box.env })).stderr, 'next page: ');
    expect(third).toContain('--page 3');
  });

  it('ingest: the failures-file command keeps --map and --profile, drops --format, and retries', async () => {
    const input = join(box.dir, 'tickets export.csv');
    writeFileSync(input, 'body,who\nfirst ticket,a\n,b\n');
    const r = await runCli(
      ['ingest', input, '--map', 'document=body', '--format', 'csv', '--profile', 'ops'],
      { env: box.env },
    );
    expect(r.code, r.stderr).toBe(3);
    const retry = suggested(r.stderr, 'Fix them and run: ');
    const failures = `${input}.failures.jsonl`;
    expect(retry).toBe(`synap ingest '${failures}' --map document=body --profile ops`);
    // Fix the failed record in place, then run the suggested command as it is.
    const line = JSON.parse(readFileSync(failures, 'utf8').trim());
    line.record.body = 'second ticket, fixed';
    writeFileSync(failures, `${JSON.stringify(line)}\n`);
    const again = await runShell(`${retry} --json`, { env: box.env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ accepted: 1, failed: 0 });
    expect(emu.documents().map((d) => d.document)).toContain('second ticket, fixed');
  });
});
