import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli, runShell, spawnCli } from '../helpers/cli.js';
import { hang, json } from '../helpers/hostile-server.js';
import { writeChatFile } from '../helpers/ingest.js';
import { GRACE_S, hostileSandbox } from '../helpers/fixtures/hostile.js';

/**
 * The CLI against servers that misbehave (test/helpers/hostile-server.ts): answers that never
 * come, absurd Retry-After values, `{}` where a status belongs, error texts quoting the key,
 * redirects to another origin. Each run must end within its bound, with the exit code that
 * says what happened, and leak nothing.
 */

async function waitUntil(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 25) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('ingest against a hostile server', () => {
  const { box, dir, start, envFor, batches, closeServers } = hostileSandbox();
  afterEach(closeServers);
  afterAll(() => box.cleanup());

  it('SIGTERM while requests hang: stops within the grace period, exit 143 in the process and in the --json summary', async () => {
    // Only the batches hang: the pre-flight (whoami, credit estimate) is answered.
    const s = await start((req) => (req.path.includes('/batch') ? hang() : undefined));
    writeChatFile(join(dir, 'term.jsonl'), 300, 'term');
    const run = spawnCli(['--json', 'ingest', 'term.jsonl', '--batch-size', '10'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 90_000,
    });
    await waitUntil(() => batches(s).length >= 1, 'the first batch');
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect((Date.now() - t0) / 1000).toBeLessThan(GRACE_S + 5);
    expect(r.code, r.stderr).toBe(143);
    const summary = JSON.parse(r.stdout).result;
    expect(summary).toMatchObject({ status: 'interrupted', exit_code: 143 });
    expect(existsSync(join(dir, 'term.jsonl.synap-lock'))).toBe(false);
  }, 90_000);

  it('OUTCOME_UNKNOWN records without ids: the summary says they may or may not be stored, and the command it offers does not resend them', async () => {
    // Batches holding "doc 3" are refused outright; the others get a 504 (may have been stored).
    const s = await start((req) => {
      if (!req.path.includes('/batch')) return undefined;
      const docs = (req.json as { documents: { document: string }[] }).documents;
      if (docs.some((d) => d.document.includes('refuse me')))
        return json(422, { detail: 'document refused' });
      return json(504, { detail: 'Gateway Timeout' });
    });
    const lines = [
      '{"document":"User: refuse me"}',
      '{"document":"User: b"}',
      '{"document":"User: c"}',
    ];
    writeFileSync(join(dir, 'unknown.jsonl'), `${lines.join('\n')}\n`);
    const r = await runCli(['ingest', 'unknown.jsonl', '--id-from', 'none', '--batch-size', '1'], {
      env: envFor(s),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/outcome unknown: 2 \(may or may not be stored\)/);
    expect(r.stderr).toMatch(
      /2 of them may or may not be stored \(OUTCOME_UNKNOWN\) and have no document_id: sending them again could store them twice/,
    );
    expect(r.stderr).not.toMatch(/Fix them and run/);
    // They may be stored: the summary does not claim that nothing was.
    expect(r.stderr).not.toMatch(/nothing was stored/);
    const offered = /To send the other failed records again: (.*)$/m.exec(r.stderr)?.[1];
    expect(offered).toBeDefined();
    // The offered command, run as printed, sends only the refused record, never the two others.
    s.setPlan((req) =>
      req.path.includes('/batch') ? json(422, { detail: 'still refused' }) : undefined,
    );
    const before = batches(s).length;
    const again = await runShell(offered!, { env: envFor(s), cwd: dir });
    expect(again.code, again.stderr).toBe(3);
    const sent = batches(s)
      .slice(before)
      .flatMap((q) =>
        (q.json as { documents: { document: string }[] }).documents.map((d) => d.document),
      );
    expect(sent).toEqual(['User: refuse me']);
  }, 60_000);
});
