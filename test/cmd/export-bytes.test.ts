import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { startScriptedServer, WHOAMI, type ScriptedServer } from '../helpers/scripted-server.js';

/**
 * An export line is the memory exactly as the server sent it: a number JSON.parse would round
 * (a 64-bit id in metadata), `1.0`, escapes and spacing come through byte for byte. A body
 * whose items cannot be cut out as single lines (pretty-printed) is re-serialised instead, one
 * memory per line all the same.
 */
describe('export writes the bytes the server sent', () => {
  const sandbox = makeSandbox();
  let server: ScriptedServer;
  const items = [
    '{"memory_id":"m1","content":"big id","metadata":{"external_id":12345678901234567890,"score":1.0}}',
    '{ "memory_id" : "m2", "content": "tab\\there, quote \\" and \\u00e9 é ☕" }',
    '{"memory_id":"m3","content":"a line with ]},{ inside","metadata":{"n":-0.000001e-7}}',
  ];
  const pretty = JSON.stringify(
    { data: [{ memory_id: 'p1', content: 'pretty', metadata: { x: 1 } }], total: 1 },
    null,
    2,
  );

  beforeAll(async () => {
    server = await startScriptedServer((req) => {
      if (req.url === '/api/v1/auth/whoami') return WHOAMI;
      const page = new URL(req.url, 'http://x').searchParams.get('page');
      if (req.headers.authorization === 'Bearer synap_pretty000000000000000000') {
        return { status: 200, text: pretty };
      }
      // Two pages; the second repeats m2 (shifted by an insert), which is written once.
      const body =
        page === '1'
          ? `{"data": [${items[0]}, ${items[1]}], "page": 1, "page_size": 2, "total": 3, "total_pages": 2}`
          : `{"page":2,"data":[${items[1]},\n${items[2]}],"page_size":2,"total":3,"total_pages":2}`;
      return { status: 200, text: body };
    });
  });
  afterAll(async () => {
    await server.close();
    sandbox.cleanup();
  });

  const run = (key: string, args: string[]) =>
    runInProcess(args, {
      env: { ...sandbox.env, SYNAP_API_KEY: key, SYNAP_BASE_URL: server.url },
      cwd: sandbox.dir,
      timeoutMs: 60_000,
    });

  it('to a file and to stdout: every line is the item as sent, repeats dropped', async () => {
    const key = 'synap_bytes0000000000000000000000';
    const toFile = await run(key, ['--quiet', 'export', '--page-size', '2', '-o', 'out.jsonl']);
    expect(toFile.stderr).toBe('');
    expect(toFile.code).toBe(0);
    const expected = `${items.join('\n')}\n`;
    expect(readFileSync(join(sandbox.dir, 'out.jsonl'), 'utf8')).toBe(expected);

    const toStdout = await run(key, ['--quiet', 'export', '--page-size', '2']);
    expect(toStdout.code).toBe(0);
    expect(toStdout.stdout).toBe(expected);
    // JSON.parse alone would have written 12345678901234567000 and 1.
    expect(toStdout.stdout).toContain('"external_id":12345678901234567890,"score":1.0}');
  });

  it('a pretty-printed body: one memory per line, re-serialised', async () => {
    const r = await run('synap_pretty000000000000000000', ['--quiet', 'export']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"memory_id":"p1","content":"pretty","metadata":{"x":1}}\n');
  });
});
