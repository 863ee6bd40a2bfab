import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli } from '../helpers/cli.js';

// Records whose shape is unusual but whose data is real: keys named like Object.prototype
// properties, empty documents, odd delimiters, repeated keys, very long file names. Each is
// stored as it is or fails alone, in the failures file, naming why.

describe('ingest: records of unusual shape', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  let env: Record<string, string>;
  const dir = sandbox.dir;
  const run = (args: string[]) => runCli(args, { env, cwd: dir });
  const batches = () => emu.stats().requests_by_endpoint.batch ?? 0;
  const failuresOf = (name: string) =>
    readFileSync(join(dir, `${name}.failures.jsonl`), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { record: unknown; line: number });

  beforeAll(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
    env = { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url };
  });
  afterAll(async () => {
    await emu.close();
    sandbox.cleanup();
  });

  it('keys named constructor, valueOf, __proto__, toString are stored in metadata as they are', async () => {
    writeFileSync(
      join(dir, 'inherited.jsonl'),
      '{"document":"order note","constructor":"Alice","valueOf":"ticket-1"}\n' +
        '{"document":"order note","constructor":"Bob","valueOf":"ticket-2"}\n' +
        '{"document":"proto note","__proto__":{"a":1},"metadata":{"toString":"t"}}\n',
    );
    writeFileSync(join(dir, 'inherited.csv'), 'document,__proto__,toString\ncsv note,p1,t1\n');
    const r = await run(['--json', 'ingest', 'inherited.jsonl', 'inherited.csv']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 4, skipped: 0, failed: 0 });
    const stored = emu.documents();
    const orders = stored.filter((d) => d.document === 'order note');
    expect(orders.map((d) => JSON.stringify(d.metadata)).sort()).toEqual([
      '{"constructor":"Alice","valueOf":"ticket-1"}',
      '{"constructor":"Bob","valueOf":"ticket-2"}',
    ]);
    const proto = stored.find((d) => d.document === 'proto note')!;
    expect(JSON.stringify(proto.metadata)).toBe('{"toString":"t","__proto__":{"a":1}}');
    const csv = stored.find((d) => d.document === 'csv note')!;
    expect(JSON.stringify(csv.metadata)).toBe('{"__proto__":"p1","toString":"t1"}');
  });
});
