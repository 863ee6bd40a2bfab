import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

/**
 * A B2C instance (whoami's user_context_isolation = equals_customer) refuses customer_id on
 * writes. The CLI reads the isolation from whoami and refuses first: a run that would send
 * customer ids all through stops before sending anything (exit 2, naming the flag or the
 * column); a record that carries one fails alone; nothing is dropped silently.
 */
describe('B2C instances: customer_id is refused before anything is sent', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let b2c: RunningEmulator;
  let b2b: RunningEmulator;
  const envOf = (emu: RunningEmulator) => ({
    ...sandbox.env,
    SYNAP_API_KEY: emu.apiKey,
    SYNAP_BASE_URL: emu.url,
  });
  const run = (emu: RunningEmulator, args: string[]) =>
    runInProcess(args, { env: envOf(emu), cwd: dir, timeoutMs: 60_000 });
  const writes = (emu: RunningEmulator) => {
    const s = emu.stats().requests_by_endpoint;
    return (s.batch ?? 0) + (s.create ?? 0);
  };

  beforeAll(async () => {
    [b2c, b2b] = await Promise.all([
      startEmulator({ processingDelayMs: 0, isolation: 'equals_customer' }),
      startEmulator({ processingDelayMs: 0 }),
    ]);
    writeFileSync(
      join(dir, 'mixed.jsonl'),
      [
        { document: 'User: hi from dana', document_id: 'm1', user_id: 'dana' },
        { document: 'User: hi from acme', document_id: 'm2', user_id: 'eve', customer_id: 'acme' },
        { document: 'User: hi again', document_id: 'm3', user_id: 'dana' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    writeFileSync(join(dir, 'plain.jsonl'), '{"document":"User: hello","user_id":"dana"}\n');
    writeFileSync(
      join(dir, 'orgs.csv'),
      'document,user_id,customer_id\nfirst,dana,\nsecond,eve,acme\n',
    );
    writeFileSync(join(dir, 'tickets.csv'), 'body,org\nPrinter on fire,acme\n');
  });
  afterAll(async () => {
    await Promise.all([b2c.close(), b2b.close()]);
    sandbox.cleanup();
  });

  it('--customer-id stops the run up front: exit 2, naming the flag and the instance', async () => {
    const who = (await run(b2c, ['--json', 'auth', 'status'])).stdout;
    const instanceId = JSON.parse(who).result.instance_id as string;
    const before = writes(b2c);
    const r = await run(b2c, ['ingest', 'plain.jsonl', '--customer-id', 'acme']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--customer-id acme');
    expect(r.stderr).toContain(`this instance (${instanceId}) is B2C`);
    expect(r.stderr).toContain('user_context_isolation=equals_customer');
    expect(writes(b2c)).toBe(before);
  });

  it('--map customer_id=<column> stops the run up front, naming the column', async () => {
    const before = writes(b2c);
    const r = await run(b2c, [
      'ingest',
      'tickets.csv',
      '--map',
      'document=body',
      '--map',
      'customer_id=org',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--map customer_id=org: the column "org" would supply customer ids/);
    expect(writes(b2c)).toBe(before);
  });

  it('a CSV whose customer_id column has values stops up front, naming the column and a line', async () => {
    const before = writes(b2c);
    const r = await run(b2c, ['ingest', 'orgs.csv']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /orgs\.csv: the column "customer_id" supplies customer ids \(line 3: "acme"\)/,
    );
    expect(writes(b2c)).toBe(before);
  });

  it('a record carrying a customer_id fails alone, before sending; the others are stored', async () => {
    const r = await run(b2c, ['--json', 'ingest', 'mixed.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    const s = JSON.parse(r.stdout).result;
    expect(s).toMatchObject({ accepted: 2, failed: 1 });
    expect(r.stderr).toMatch(
      /mixed\.jsonl:2 CUSTOMER_ID_NOT_ACCEPTED: customer_id "acme" not sent/,
    );
    const failures = readFileSync(join(dir, 'mixed.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      line: 2,
      record: { document_id: 'm2', customer_id: 'acme' },
      error: { code: 'CUSTOMER_ID_NOT_ACCEPTED', status: null },
    });
    // The service never saw a customer_id, so it never had to refuse one.
    expect(b2c.documents().map((d) => [d.document_id, d.customer_id])).toEqual([
      ['m1', null],
      ['m3', null],
    ]);
    expect(b2c.stats().requests_by_status['400'] ?? 0).toBe(0);
  });

  it('the same inputs on a B2B instance send their customer ids; a user_id alone fails before sending', async () => {
    const r = await run(b2b, ['--json', 'ingest', 'mixed.jsonl']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /mixed\.jsonl:1 CUSTOMER_ID_REQUIRED: user_id "dana" not sent without a customer_id: this instance \(inst_\w+\) is B2B/,
    );
    const failures = readFileSync(join(dir, 'mixed.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(failures.map((f) => [f.line, f.error.code, f.error.field])).toEqual([
      [1, 'CUSTOMER_ID_REQUIRED', 'customer_id'],
      [3, 'CUSTOMER_ID_REQUIRED', 'customer_id'],
    ]);
    expect(b2b.documents().map((d) => [d.document_id, d.customer_id])).toEqual([['m2', 'acme']]);
    const csv = await run(b2b, ['ingest', 'orgs.csv']);
    expect(csv.code, csv.stderr).toBe(3);
    expect(csv.stderr).toContain('orgs.csv:2 CUSTOMER_ID_REQUIRED');
    // The service never saw a user_id on its own, so it never had to refuse one.
    expect(b2b.stats().requests_by_status['400'] ?? 0).toBe(0);
    // With the customer given for the run, the same records are sent.
    const fixed = await run(b2b, ['ingest', 'mixed.jsonl', '--customer-id', 'acme']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(b2b.documents().find((d) => d.document_id === 'm1')?.customer_id).toBe('acme');
  });
});
