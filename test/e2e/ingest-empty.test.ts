import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';

describe('an input with no records', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    env = { ...sandbox.env, SYNAP_BASE_URL: emu.url, SYNAP_API_KEY: emu.apiKey };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('an empty file or stdin: "0 records" with a warning, nothing sent, exit 0', async () => {
    const empty = join(sandbox.dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const file = await runCli(['ingest', empty], { env });
    expect(file.code, file.stderr).toBe(0);
    expect(file.stderr).toMatch(/warning: .*empty\.jsonl: 0 records/);
    expect(file.stderr).toMatch(/^records read: 0$/m);
    const piped = await runShell('printf "" | synap --json ingest - --format jsonl', { env });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toMatch(/warning: .*0 records/);
    expect(JSON.parse(piped.stdout).result.records_read).toBe(0);
    expect(emu.stats().requests_by_endpoint.batch ?? 0).toBe(0);
  });
});
