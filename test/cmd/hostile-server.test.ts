import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import {
  documentKey,
  echoKeyInItems,
  firstAnswer,
  hang,
  json,
  rateLimited,
  redirect,
  reorderedWithRefusals,
} from '../helpers/hostile-server.js';
import { writeChatFile } from '../helpers/ingest.js';
import { GRACE_S, hostileSandbox, KEY } from '../helpers/fixtures/hostile.js';

/**
 * The CLI against servers that misbehave (test/helpers/hostile-server.ts): answers that never
 * come, absurd Retry-After values, `{}` where a status belongs, error texts quoting the key,
 * redirects to another origin. Each run must end within its bound, with the exit code that
 * says what happened, and leak nothing.
 */

describe('ingest against a hostile server', () => {
  const { box, dir, start, envFor, batches, closeServers } = hostileSandbox();
  afterEach(closeServers);
  afterAll(() => box.cleanup());

  it('a server that never answers: --max-duration 3s stops within the grace period, resumable (exit 5)', async () => {
    // Only the batches hang: the pre-flight (whoami, credit estimate) is answered.
    const { plan, reached } = firstAnswer((req) =>
      req.path.includes('/batch') ? hang() : undefined,
    );
    const s = await start(plan);
    writeChatFile(join(dir, 'hang.jsonl'), 300, 'hang');
    // A clock far from the real time: the summary's elapsed time is read on the run's clock
    // alone, from the pre-flight to the end.
    const clock = new FakeClock(Date.parse('2031-01-01T00:00:00Z'));
    const t0 = Date.now();
    const r = await runOnClock(
      ['--json', 'ingest', 'hang.jsonl', '--max-duration', '3s', '--batch-size', '10'],
      // The clock stands still until the first batch hangs (the pre-flight is real work).
      { env: envFor(s), cwd: dir, clock, holdUntil: reached, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(5);
    const summary = JSON.parse(r.stdout).result;
    // The 3 s, then the grace period for the requests on the wire, both on the run's clock
    // (real work after the first batch also moves it: see runOnClock; hence the room), and
    // none of it waited in real time.
    expect(summary.elapsed_s).toBeGreaterThanOrEqual(3 + GRACE_S);
    expect(summary.elapsed_s).toBeLessThan(3 + GRACE_S + 3);
    expect(r.clockMs / 1000).toBeGreaterThanOrEqual(summary.elapsed_s);
    expect((Date.now() - t0) / 1000).toBeLessThan(3 + GRACE_S);
    expect(summary).toMatchObject({ stop_reason: 'max-duration', accepted: 0, failed: 0 });
    // Nothing settled, so nothing to resume from: no state file, and the lock is gone.
    expect(existsSync(join(dir, 'hang.jsonl.synap-state.json'))).toBe(false);
    expect(existsSync(join(dir, 'hang.jsonl.synap-lock'))).toBe(false);
  }, 60_000);

  for (const route of ['whoami', 'credits/estimate'] as const) {
    it(`a server that never answers ${route} before the first batch: --max-duration 3s stops there (exit 5), nothing sent, no state`, async () => {
      const { plan, reached } = firstAnswer((req) =>
        req.path.includes(route) ? hang() : undefined,
      );
      const s = await start(plan);
      const name = `pre-${route.replace('/', '-')}.jsonl`;
      writeChatFile(join(dir, name), 50, 'pre');
      const t0 = Date.now();
      const r = await runOnClock(['--json', 'ingest', name, '--max-duration', '3s'], {
        env: envFor(s),
        cwd: dir,
        holdUntil: reached,
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(5);
      expect(JSON.parse(r.stdout).error.message).toMatch(/--max-duration before anything was sent/);
      // The bound is kept on the run's clock from the moment the server holds the request:
      // 3 s, not the client's per-attempt timeout (30 s) and its retries; none of it waited
      // in real time.
      expect(r.clockMs / 1000).toBeGreaterThanOrEqual(3);
      expect(r.clockMs / 1000).toBeLessThan(3 + 3);
      expect((Date.now() - t0) / 1000).toBeLessThan(3 + GRACE_S);
      expect(batches(s)).toHaveLength(0);
      expect(existsSync(join(dir, `${name}.synap-state.json`))).toBe(false);
      expect(existsSync(join(dir, `${name}.synap-lock`))).toBe(false);
    }, 60_000);
  }

  it('Retry-After: 600 under --max-duration 3s: the pause ends with the run, not ten minutes later', async () => {
    const { plan, reached } = firstAnswer((req) =>
      req.path.includes('/batch') ? rateLimited('600') : undefined,
    );
    const s = await start(plan);
    writeChatFile(join(dir, 'ra600.jsonl'), 50, 'ra600');
    const t0 = Date.now();
    const r = await runOnClock(['--json', 'ingest', 'ra600.jsonl', '--max-duration', '3s'], {
      env: envFor(s),
      cwd: dir,
      holdUntil: reached,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(5);
    // Nothing is on the wire during a Retry-After pause: no grace period is owed.
    // On the run's clock, far from the ten minutes (real work between two steps of the clock
    // also moves it, so the bound leaves room for a loaded machine).
    expect(r.clockMs / 1000).toBeLessThan(60);
    expect((Date.now() - t0) / 1000).toBeLessThan(3 + 6);
    expect(JSON.parse(r.stdout).result.stop_reason).toBe('max-duration');
  }, 90_000);

  it('Retry-After: 999999 is a stop (exit 5) at once, naming the wait and --max-retry-after', async () => {
    const s = await start((req) =>
      req.path.includes('/batch') ? rateLimited('999999') : undefined,
    );
    writeChatFile(join(dir, 'ra999.jsonl'), 50, 'ra999');
    const t0 = Date.now();
    const r = await runInProcess(['ingest', 'ra999.jsonl'], { env: envFor(s), cwd: dir });
    expect(r.code, r.stderr).toBe(5);
    // At once: no wait at all (the bound only allows for start-up on a loaded machine).
    expect((Date.now() - t0) / 1000).toBeLessThan(20);
    expect(r.stderr).toContain('Retry-After');
    expect(r.stderr).toContain('--max-retry-after');
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    expect(existsSync(join(dir, 'ra999.jsonl.synap-lock'))).toBe(false);
  }, 60_000);

  it('a Retry-After beyond what a timer holds (> 2^31 ms) is waited in capped steps: no overflow warning, no spinning', async () => {
    const { plan, reached } = firstAnswer((req) =>
      req.path.includes('/batch') ? rateLimited('3000000') : undefined,
    );
    const s = await start(plan);
    writeChatFile(join(dir, 'ra3m.jsonl'), 20, 'ra3m');
    const r = await runOnClock(
      ['--max-retry-after', '1000h', 'ingest', 'ra3m.jsonl', '--max-duration', '2s'],
      { env: envFor(s), cwd: dir, holdUntil: reached, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
    // One request, then one long pause: nothing sent again while paused.
    expect(batches(s).length).toBe(1);
  }, 60_000);

  it('garbage Retry-After values fall back to backoff and the run completes', async () => {
    let n = 0;
    const values = ['soon', '-5', '1e3x', ''];
    const s = await start((req) =>
      req.path.includes('/batch') && n < values.length ? rateLimited(values[n++]!) : undefined,
    );
    writeChatFile(join(dir, 'garbage.jsonl'), 10, 'garbage');
    const r = await runOnClock(['ingest', 'garbage.jsonl'], { env: envFor(s), cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // Four waits of the 429 fallback (1 s + 1…10 s each) on the run's clock.
    expect(r.clockMs).toBeGreaterThanOrEqual(4 * 1000);
    expect(r.stderr).not.toContain('TimeoutOverflowWarning');
  }, 60_000);

  it('--wait on a status answer of {} ends instead of polling for ever', async () => {
    const s = await start((req) => (req.path.includes('/status/') ? json(200, {}) : undefined));
    writeChatFile(join(dir, 'wait.jsonl'), 5, 'wait');
    const t0 = Date.now();
    const r = await runInProcess(['--json', 'ingest', 'wait.jsonl', '--wait'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect((Date.now() - t0) / 1000).toBeLessThan(15);
    expect(r.code, r.stderr).not.toBe(0);
    const summary = JSON.parse(r.stdout).result;
    expect(summary.wait).toMatchObject({ completed: 0, unfinished: 5 });
    expect(r.stderr).toContain('no status');
  }, 60_000);

  it('--wait honours --max-duration when the status endpoint never answers', async () => {
    const { plan, reached } = firstAnswer((req) =>
      req.path.includes('/status/') ? hang() : undefined,
    );
    const s = await start(plan);
    writeChatFile(join(dir, 'waithang.jsonl'), 5, 'waithang');
    const t0 = Date.now();
    const r = await runOnClock(
      ['--json', 'ingest', 'waithang.jsonl', '--wait', '--max-duration', '3s'],
      { env: envFor(s), cwd: dir, holdUntil: reached, timeoutMs: 90_000 },
    );
    // On the run's clock, far from the 150 s the attempts' timeouts add up to (real work
    // between two steps of the clock also moves it, hence the room).
    expect(r.clockMs / 1000).toBeLessThan(60);
    expect((Date.now() - t0) / 1000).toBeLessThan(3 + GRACE_S + 5);
    expect(r.code, r.stderr).toBe(5);
    expect(JSON.parse(r.stdout).result).toMatchObject({
      accepted: 5,
      stop_reason: 'max-duration',
      wait: { unfinished: 5 },
    });
  }, 90_000);

  it('memories status --wait on {} fails at once, naming the missing status', async () => {
    const s = await start((req) => (req.path.includes('/status/') ? json(200, {}) : undefined));
    const t0 = Date.now();
    const r = await runInProcess(['memories', 'status', 'ing_1', '--wait'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 60_000,
    });
    // Far from the 300 s --timeout a poll that took {} as unfinished would wait out.
    expect((Date.now() - t0) / 1000).toBeLessThan(30);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no status');
  }, 60_000);

  it('an error message quoting the key in a 200 batch answer reaches no file and no stream', async () => {
    const s = await start((req) => (req.path.includes('/batch') ? echoKeyInItems(req) : undefined));
    writeChatFile(join(dir, 'echo.jsonl'), 3, 'echo');
    const r = await runInProcess(['ingest', 'echo.jsonl'], { env: envFor(s), cwd: dir });
    expect(r.code, r.stderr).toBe(3);
    const failures = readFileSync(join(dir, 'echo.jsonl.failures.jsonl'), 'utf8');
    expect(failures.trim().split('\n')).toHaveLength(3);
    expect(failures).not.toContain(KEY);
    expect(failures).not.toMatch(/synap_[A-Za-z0-9]{12,}/);
    expect(failures).toContain('document refused for key');
  });

  it('results in reverse order with four refusals: the refused records are the failures, the stored ones are accepted (exit 3)', async () => {
    // Refuses the documents whose text ends in an odd number below 8.
    const refused = (text: string) => /noted [1357]\.$/.test(text);
    const s = await start((req) => {
      if (!req.path.includes('/batch')) return undefined;
      const docs = (req.json as { documents: { document_id: string; document: string }[] })
        .documents;
      const ids = new Set(docs.filter((d) => refused(d.document)).map((d) => d.document_id));
      return reorderedWithRefusals(req, (id) => ids.has(id));
    });
    writeChatFile(join(dir, 'reordered.jsonl'), 8, 'reordered');
    const r = await runInProcess(['--json', 'ingest', 'reordered.jsonl', '--batch-size', '8'], {
      env: envFor(s),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result).toMatchObject({ accepted: 4, failed: 4 });
    const failures = readFileSync(join(dir, 'reordered.jsonl.failures.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { record: { document: string } });
    expect(failures.map((f) => refused(f.record.document))).toEqual([true, true, true, true]);
    // The four stored are exactly the four not in the failures file.
    const sent = batches(s).flatMap(
      (b) => (b.json as { documents: { document_id: string; document: string }[] }).documents,
    );
    const stored = sent.filter((d) => s.held.has(documentKey(d))).map((d) => d.document);
    expect(stored.every((d) => !refused(d))).toBe(true);
    expect(stored).toHaveLength(4);
  });

  it('a 307 to another origin is not followed: an error naming where it pointed; the other origin gets nothing', async () => {
    const elsewhere = await start();
    const s = await start((req) =>
      req.path.includes('/batch')
        ? redirect(307, `${elsewhere.url}/api/v1/memories/batch`)
        : undefined,
    );
    writeChatFile(join(dir, 'redir.jsonl'), 20, 'redir');
    const r = await runInProcess(['ingest', 'redir.jsonl'], { env: envFor(s), cwd: dir });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('redirect');
    expect(r.stderr).toContain(elsewhere.host);
    expect(elsewhere.requests).toHaveLength(0);
    // Not retried either: a redirect is an answer, not a transient failure.
    expect(batches(s)).toHaveLength(1);
  });

  it('redirects of reads (list, whoami) are refused the same way, to plain http too', async () => {
    const elsewhere = await start();
    const s = await start((req) =>
      req.path.startsWith('/api/') ? redirect(301, `${elsewhere.url}${req.path}`) : undefined,
    );
    const list = await runInProcess(['memories', 'list'], { env: envFor(s), cwd: dir });
    expect(list.code, list.stderr).toBe(1);
    expect(list.stderr).toContain(elsewhere.host);
    const exp = await runInProcess(['export'], { env: envFor(s), cwd: dir });
    expect(exp.code, exp.stderr).toBe(1);
    expect(exp.stderr).toContain(elsewhere.host);
    const status = await runInProcess(['memories', 'status', 'ing_1'], {
      env: envFor(s),
      cwd: dir,
    });
    expect(status.code, status.stderr).toBe(1);
    expect(elsewhere.requests).toHaveLength(0);
    // One request each: a redirect is not retried.
    expect(s.apiRequests()).toHaveLength(3);
  });

  it('429s during the pre-flight (whoami, credit estimate) count in the summary and its elapsed time', async () => {
    let refusals = 0;
    const s = await start((req) =>
      (req.path.includes('whoami') || req.path.includes('/credits/')) && refusals++ < 2
        ? rateLimited('1')
        : undefined,
    );
    writeChatFile(join(dir, 'pre429.jsonl'), 5, 'pre429');
    const r = await runOnClock(['--json', 'ingest', 'pre429.jsonl'], {
      env: envFor(s),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout).result;
    expect(summary.rate_limited).toBe(2);
    // whoami twice, the estimate (once or twice), the batch: all of them.
    expect(summary.requests).toBe(
      s.apiRequests().length + s.requests.filter((q) => q.path.startsWith('/v1/')).length,
    );
    // Two waits of a second each.
    expect(summary.elapsed_s).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('a retry-budget stop with nothing in a failures file says the unsent records go again on resume, and names no failures file', async () => {
    const s = await start((req) =>
      req.path.includes('/batch') ? json(503, { detail: 'down for maintenance' }) : undefined,
    );
    writeChatFile(join(dir, 'budget.jsonl'), 60, 'budget');
    const r = await runInProcess(['ingest', 'budget.jsonl', '--batch-size', '5'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/retry budget exhausted/);
    expect(existsSync(join(dir, 'budget.jsonl.failures.jsonl'))).toBe(false);
    expect(r.stderr).not.toMatch(/see the failures file|see budget\.jsonl\.failures/);
    expect(r.stderr).toMatch(
      /\d+ record\(s\) were not stored yet and are in no failures file: running the same command again sends them/,
    );
  }, 90_000);

  it('--wait is bounded: --wait-timeout 3s on a status that stays processing ends the wait (exit 3), saying so', async () => {
    const s = await start((req) =>
      req.path.includes('/status/')
        ? json(200, {
            ingestion_id: req.path.split('/').pop(),
            document_id: 'x',
            status: 'processing',
            queued_at: '2026-01-01T00:00:00Z',
          })
        : undefined,
    );
    writeChatFile(join(dir, 'waitlimit.jsonl'), 5, 'waitlimit');
    const t0 = Date.now();
    const r = await runOnClock(
      ['--json', 'ingest', 'waitlimit.jsonl', '--wait', '--wait-timeout', '3s'],
      {
        env: envFor(s),
        cwd: dir,
        timeoutMs: 60_000,
      },
    );
    expect(r.clockMs / 1000).toBeGreaterThanOrEqual(3);
    expect(r.clockMs / 1000).toBeLessThan(60);
    expect((Date.now() - t0) / 1000).toBeLessThan(3 + 20);
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).result.wait).toMatchObject({
      completed: 0,
      unfinished: 5,
      timed_out: true,
    });
  }, 60_000);

  it('--wait without --wait-timeout is bounded by the SDK wait_for_completion limit, 300 s', async () => {
    const s = await start((req) =>
      req.path.includes('/status/')
        ? json(200, {
            ingestion_id: req.path.split('/').pop(),
            document_id: 'x',
            status: 'queued',
            queued_at: '2026-01-01T00:00:00Z',
          })
        : undefined,
    );
    writeChatFile(join(dir, 'waitdefault.jsonl'), 2, 'waitdefault');
    const r = await runOnClock(['--json', 'ingest', 'waitdefault.jsonl', '--wait'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.clockMs / 1000).toBeGreaterThanOrEqual(300);
    expect(r.clockMs / 1000).toBeLessThan(330);
    expect(JSON.parse(r.stdout).result.wait).toMatchObject({ unfinished: 2, timed_out: true });
  }, 60_000);

  it('--wait: error and cancelled are final and named in the summary', async () => {
    let n = 0;
    const s = await start((req) =>
      req.path.includes('/status/')
        ? json(200, {
            ingestion_id: req.path.split('/').pop(),
            document_id: 'x',
            status: ['completed', 'error', 'cancelled'][n++ % 3],
            queued_at: '2026-01-01T00:00:00Z',
          })
        : undefined,
    );
    writeChatFile(join(dir, 'waitfinal.jsonl'), 3, 'waitfinal');
    const r = await runInProcess(['ingest', 'waitfinal.jsonl', '--wait', '--concurrency', '1'], {
      env: envFor(s),
      cwd: dir,
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /1 completed, 0 partial, 0 failed, 1 error, 1 cancelled, 0 unfinished/,
    );
    expect(r.stderr).toMatch(/processing not confirmed for 2 document\(s\)/);
    // Each status was asked once: a final one is not polled again.
    expect(s.requests.filter((q) => q.path.includes('/status/'))).toHaveLength(3);
  }, 60_000);

  it('OUTCOME_UNKNOWN records with ids (--on-ambiguous fail): the offered command is safe for them and says so', async () => {
    const s = await start((req) =>
      req.path.includes('/batch') ? json(504, { detail: 'Gateway Timeout' }) : undefined,
    );
    writeChatFile(join(dir, 'unknownids.jsonl'), 4, 'unknownids');
    const r = await runInProcess(['ingest', 'unknownids.jsonl', '--on-ambiguous', 'fail'], {
      env: envFor(s),
      cwd: dir,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/Fix them and run: synap ingest unknownids\.jsonl\.failures\.jsonl/);
    expect(r.stderr).toMatch(
      /4 of them may or may not be stored \(OUTCOME_UNKNOWN\); that command is safe for them/,
    );
  }, 60_000);
});
