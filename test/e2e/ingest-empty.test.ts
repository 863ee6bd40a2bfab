import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, runShell } from '../helpers/cli.js';
import { emulatorSandbox } from '../helpers/emulator.js';

describe('an input with no records', () => {
  const sandbox = emulatorSandbox();

  it('an empty file or stdin: "0 records" with a warning, nothing sent, exit 0', async () => {
    const empty = join(sandbox.dir, 'empty.jsonl');
    writeFileSync(empty, '');
    const file = await runCli(['ingest', empty], { env: sandbox.env });
    expect(file.code, file.stderr).toBe(0);
    expect(file.stderr).toMatch(/warning: .*empty\.jsonl: 0 records/);
    expect(file.stderr).toMatch(/^records read: 0$/m);
    const piped = await runShell('printf "" | synap --json ingest - --format jsonl', {
      env: sandbox.env,
    });
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stderr).toMatch(/warning: .*0 records/);
    expect(JSON.parse(piped.stdout).result.records_read).toBe(0);
    expect(sandbox.emu.stats().requests_by_endpoint.batch ?? 0).toBe(0);
  });
});
