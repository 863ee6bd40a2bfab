import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { api } from '../helpers/emulator.js';
import {
  firstAnswer,
  hang,
  json,
  rateLimited,
  startHostileServer,
  type HostileServer,
} from '../helpers/hostile-server.js';
import { GRACE_S, KEY } from '../helpers/fixtures/hostile.js';
import { allMemories, seedMemories } from '../helpers/export.js';
import { STACK_LINE, addProfile, useEmulators } from '../helpers/fixtures/migrate.js';

describe('export | ingest and migrate', () => {
  const sandbox = makeSandbox();

  let target: RunningEmulator;
  useEmulators(runInProcess, sandbox, 3, { seed: 600, profiles: { staging: 0, prod: 2 } }, (e) => {
    target = e[2];
  });

  it('refuses a migration onto the same profile', async () => {
    const r = await runInProcess(['migrate', '--from', 'staging', '--to', 'staging'], {
      env: sandbox.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('same');
  });

  it('--verbose shows the retry policy once, though migrate opens two sessions', async () => {
    const r = await runInProcess(
      ['-v', 'migrate', '--from', 'staging', '--to', 'prod', '--dry-run'],
      {
        env: sandbox.env,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('synap: retry policy:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/5 attempts per call, backoff 0\.5s…20s full jitter, budget 20/);
    expect(lines[0]).toContain('uncertain writes repeated only when idempotent');
    // Then one line per HTTP request, after the policy.
    expect(r.stderr.indexOf('synap: http GET')).toBeGreaterThan(r.stderr.indexOf('retry policy'));
  });

  it('a state directory that cannot be made stops it before anything is sent, naming the directory and XDG_STATE_HOME', async () => {
    // XDG_STATE_HOME is a file: the state directory inside it cannot be made.
    const blocked = join(sandbox.dir, 'not-a-dir');
    writeFileSync(blocked, 'x');
    const r = await runInProcess(['migrate', '--from', 'staging', '--to', 'prod'], {
      env: { ...sandbox.env, XDG_STATE_HOME: blocked },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`cannot write the state directory ${join(blocked, 'synap')}:`);
    expect(r.stderr).toContain('(ENOTDIR)');
    expect(r.stderr).toContain('Set XDG_STATE_HOME to a directory you can write.');
    expect(target.stats().documents_accepted).toBe(0);
  });
});

describe('a nightly job moved to the migrated instance', () => {
  const sandbox = makeSandbox();
  let old: RunningEmulator;
  let moved: RunningEmulator;
  useEmulators(runInProcess, sandbox, 2, { profiles: { old: 0, new: 1 } }, (e) => {
    [old, moved] = e;
  });

  it('after migrate, every document_created_at is the source’s, and the same job on the target stores nothing new', async () => {
    // A support-chat file as a nightly job sends it: no document ids (derived from the content).
    const chats = join(sandbox.dir, 'chats.jsonl');
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({
        document: `User: ticket ${i} is stuck\nAssistant: fixed it for ticket ${i}`,
        user_id: `u-${i % 9}`,
        customer_id: 'acme',
        document_created_at: new Date(Date.UTC(2025, 1, 1, 23, 17) + i * 3_600_000).toISOString(),
      }),
    );
    writeFileSync(chats, `${lines.join('\n')}\n`);
    const job = (profile: string) =>
      runInProcess(['--json', '--profile', profile, 'ingest', chats], {
        env: sandbox.env,
        cwd: sandbox.dir,
      });
    const first = await job('old');
    expect(first.code, first.stderr).toBe(0);
    expect(old.stats().documents_stored).toBe(300);

    const m = await runInProcess(['migrate', '--from', 'old', '--to', 'new'], {
      env: sandbox.env,
      cwd: sandbox.dir,
    });
    expect(m.code, m.stderr).toBe(0);
    const source = new Map(old.documents().map((d) => [d.document_id, d]));
    const target = moved.documents();
    expect(target).toHaveLength(300);
    for (const d of target) {
      expect(source.has(d.document_id)).toBe(true);
      expect(d.document_created_at).toBe(source.get(d.document_id)!.document_created_at);
    }

    const before = moved.stats();
    const nightly = await job('new');
    expect(nightly.code, nightly.stderr).toBe(0);
    // The target's ledger holds what migrate sent: the job sends nothing at all.
    expect(JSON.parse(nightly.stdout).result).toMatchObject({ sent: 0, unchanged: 300 });
    expect(moved.stats().documents_stored).toBe(300);
    expect(moved.stats().documents_accepted).toBe(before.documents_accepted);
    expect(moved.stats().duplicates_refused).toBe(before.duplicates_refused);
  });

  it('ids of the source’s own: after migrate the job on the target sends nothing, then only what is new', async () => {
    const chats = join(sandbox.dir, 'tickets.jsonl');
    const line = (i: number, text = `ticket ${i} is stuck`) =>
      JSON.stringify({
        document: `User: ${text}`,
        document_id: `t-${i}`,
        user_id: 'u-1',
        customer_id: 'acme',
      });
    const write = (n: number) =>
      writeFileSync(chats, `${Array.from({ length: n }, (_, i) => line(i)).join('\n')}\n`);
    write(50);
    const job = async (profile: string) => {
      const r = await runInProcess(['--json', '--profile', profile, 'ingest', chats], {
        env: sandbox.env,
        cwd: sandbox.dir,
      });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout).result as Record<string, number>;
    };
    expect(await job('old')).toMatchObject({ accepted: 50 });
    const served = () => Object.values(moved.stats().requests_by_status).reduce((a, n) => a + n, 0);
    const servedBefore = served();
    const m = await runInProcess(['--json', 'migrate', '--from', 'old', '--to', 'new'], {
      env: sandbox.env,
      cwd: sandbox.dir,
    });
    expect(m.code, m.stderr).toBe(0);
    // The 300 of the test before are held already; the 50 new documents are sent.
    const migrated = JSON.parse(m.stdout).result;
    expect(migrated).toMatchObject({ accepted: 50, unchanged: 300 });
    // The summary counts every request the target answered, its pre-flight's too.
    expect(migrated.requests).toBe(served() - servedBefore);
    const before = moved.stats();
    expect(await job('new')).toMatchObject({ sent: 0, unchanged: 50 });
    expect(moved.stats().duplicates_refused).toBe(before.duplicates_refused);
    // The next night appends one: only that one is sent.
    write(51);
    expect(await job('new')).toMatchObject({ sent: 1, accepted: 1, unchanged: 50 });
    expect(moved.stats().documents_accepted - before.documents_accepted).toBe(1);
  });
});

/**
 * The bounded runs below go by a fake clock that the emulators' latency waits on too: a run's
 * --max-duration and the target's slow answers pass in step, faster than real time but in
 * steps of at most 20 ms of the clock, a real millisecond or more apart, so what the run does
 * between answers still takes a share of the clock and a bounded run stops part-way.
 */
const BOUNDED = { stepMs: 20 };

describe('migrate --max-duration against a slow target', () => {
  const sandbox = makeSandbox();
  const clock = new FakeClock(Date.now());
  let from: RunningEmulator;
  let slow: RunningEmulator;
  useEmulators(runInProcess, sandbox, 2, { seed: 300, profiles: { a: 0, b: 1 }, clock }, (e) => {
    [from, slow] = e;
  });

  it('two bounded runs each make progress and together store every memory exactly once', async () => {
    slow.setFaults({ latencyMs: 250 });
    const migrate = (limit: string) =>
      runOnClock(
        [
          '--json',
          'migrate',
          '--from',
          'a',
          '--to',
          'b',
          '--batch-size',
          '10',
          '--concurrency',
          '1',
          '--max-duration',
          limit,
        ],
        { env: sandbox.env, cwd: sandbox.dir, timeoutMs: 60_000, clock, ...BOUNDED },
      );
    const first = await migrate('2s');
    expect(first.code, first.stderr).toBe(5);
    const stored = slow.stats().documents_stored;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(300);
    const stateDir = join(sandbox.dir, '.local', 'state', 'synap');
    expect(readdirSync(stateDir).some((f) => /^migrate-.*\.synap-state\.json$/.test(f))).toBe(true);

    // The latency only had to stop the first run part-way; the second runs at full speed.
    slow.setFaults({ latencyMs: 0 });
    const second = await migrate('60s');
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout).result;
    const s = slow.stats();
    expect(s.documents_stored).toBe(300);
    expect(s.documents_accepted).toBe(300);
    expect(s.duplicates_refused).toBe(0);
    // The second run continued: it sent only what the first had not, and counts both runs.
    expect(result.sent).toBe(300 - stored);
    expect(result.earlier_runs.accepted).toBe(stored);
    expect(result.accepted).toBe(300);
    expect(readdirSync(stateDir).filter((f) => f.startsWith('migrate-'))).toEqual([]);
  });

  it('against a target that stays slow, every bounded run stores more than the one before, and none stores twice', async () => {
    const slowest = await startEmulator({ processingDelayMs: 0, clock });
    try {
      await addProfile(runInProcess, sandbox.env, 'slowest', slowest.url, slowest.apiKey);
      slowest.setFaults({ latencyMs: 250 });
      const migrate = () =>
        runOnClock(
          [
            'migrate',
            '--from',
            'a',
            '--to',
            'slowest',
            '--batch-size',
            '10',
            '--concurrency',
            '1',
            '--max-duration',
            '2s',
            // Without the target's ledger: the runs' own state is what must carry them on.
            '--resend',
          ],
          { env: sandbox.env, cwd: sandbox.dir, timeoutMs: 60_000, clock, ...BOUNDED },
        );
      const stored: number[] = [];
      for (let run = 0; run < 3; run++) {
        const r = await migrate();
        expect(r.code, r.stderr).toBe(5);
        stored.push(slowest.stats().documents_stored);
      }
      // Each run continues where the one before stopped: the count grows run over run.
      expect(stored[0]).toBeGreaterThan(0);
      expect(stored[1]).toBeGreaterThan(stored[0]!);
      expect(stored[2]).toBeGreaterThan(stored[1]!);
      expect(stored[2]).toBeLessThan(300);
      expect(slowest.stats().duplicates_refused).toBe(0);
    } finally {
      await slowest.close();
    }
  });

  it('memories deleted and created at the source between two bounded runs: nothing that stayed is lost', async () => {
    const third = await startEmulator({ processingDelayMs: 0, clock });
    try {
      await addProfile(runInProcess, sandbox.env, 'c', third.url, third.apiKey);
      third.setFaults({ latencyMs: 250 });
      const migrate = (limit: string) =>
        runOnClock(
          [
            'migrate',
            '--from',
            'a',
            '--to',
            'c',
            '--batch-size',
            '10',
            '--concurrency',
            '1',
            '--max-duration',
            limit,
          ],
          { env: sandbox.env, cwd: sandbox.dir, timeoutMs: 60_000, clock, ...BOUNDED },
        );
      // The bound counts from the start, pre-flight included: 3 s leave room on a loaded machine.
      expect((await migrate('3s')).code).toBe(5);
      const copied = new Set(third.documents().map((d) => d.document_id));
      expect(copied.size).toBeGreaterThan(30);
      // The source consolidates: 30 memories already copied go, 30 new ones come.
      const listed = await allMemories(from);
      const gone = listed.filter((m) => copied.has(m.source_document_id as string)).slice(0, 30);
      for (const m of gone) {
        expect((await api(from, 'DELETE', `/api/v1/memories/${m.memory_id}`)).status).toBe(200);
      }
      await seedMemories(from, 30, 'merged');

      // The latency only had to stop the first run part-way; the second runs at full speed.
      third.setFaults({ latencyMs: 0 });
      const second = await migrate('60s');
      expect(second.code, second.stderr).toBe(0);
      const target = third.documents().map((d) => d.document_id);
      expect(new Set(target).size).toBe(target.length);
      const held = new Set(target);
      const missing = (await allMemories(from)).filter(
        (m) => !held.has(m.source_document_id as string),
      );
      expect(missing.map((m) => m.source_document_id)).toEqual([]);
      expect(third.stats().duplicates_refused).toBe(0);
    } finally {
      await third.close();
    }
  });
  it('a slow pre-flight is taken off --max-duration, as ingest does: the run ends at the bound, not the bound after it', async () => {
    const late = await startHostileServer();
    try {
      await addProfile(runInProcess, sandbox.env, 'late', late.url, KEY);
      // The target's first whoami is answered with a 30 s Retry-After; every batch then hangs.
      let whoamis = 0;
      const { plan, reached } = firstAnswer((req) => {
        if (req.path.includes('/whoami') && whoamis++ === 0) return rateLimited('30');
        return req.path.includes('/batch') ? hang() : undefined;
      });
      late.setPlan(plan);
      const r = await runOnClock(
        ['--json', 'migrate', '--from', 'a', '--to', 'late', '--max-duration', '40s'],
        { env: sandbox.env, cwd: sandbox.dir, holdUntil: reached, timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(5);
      const summary = JSON.parse(r.stdout).result;
      expect(summary.stop_reason).toBe('max-duration');
      // 30 s of pre-flight leave 10 s of the 40 to the pipeline, then the grace period for the
      // batches on the wire: 80 s or more when the pipeline is given the whole 40 s again.
      expect(summary.elapsed_s).toBeGreaterThanOrEqual(40);
      expect(summary.elapsed_s).toBeLessThan(40 + GRACE_S + 10);
    } finally {
      await late.close();
    }
  }, 60_000);
});

describe('migrate --show between two bounded runs', () => {
  const sandbox = makeSandbox();
  const clock = new FakeClock(Date.now());
  let slow: RunningEmulator;
  useEmulators(runInProcess, sandbox, 2, { seed: 60, profiles: { a: 0, b: 1 }, clock }, (e) => {
    slow = e[1];
  });

  it('sends nothing and leaves the saved progress alone, as --dry-run does: the next run continues', async () => {
    const migrate = (...more: string[]) =>
      runOnClock(['--json', 'migrate', '--from', 'a', '--to', 'b', ...more], {
        env: sandbox.env,
        cwd: sandbox.dir,
        timeoutMs: 60_000,
        clock,
        ...BOUNDED,
      });
    slow.setFaults({ latencyMs: 250 });
    const first = await migrate('--batch-size', '5', '--concurrency', '1', '--max-duration', '2s');
    expect(first.code, first.stderr).toBe(5);
    const stored = slow.stats().documents_stored;
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(60);
    slow.setFaults({ latencyMs: 0 });
    const stateDir = join(sandbox.dir, '.local', 'state', 'synap');
    const saved = () =>
      readdirSync(stateDir)
        .filter((f) => f.startsWith('migrate-'))
        .sort()
        .map((f) => [f, readFileSync(join(stateDir, f), 'utf8')]);
    const before = saved();
    expect(before.length).toBeGreaterThan(0);

    const show = await migrate('--show', '1');
    expect(show.code, show.stderr).toBe(0);
    expect(slow.stats().documents_stored).toBe(stored);
    expect(saved()).toEqual(before);

    const second = await migrate();
    expect(second.code, second.stderr).toBe(0);
    const result = JSON.parse(second.stdout).result;
    expect(result.earlier_runs.accepted).toBe(stored);
    expect(result.sent).toBe(60 - stored);
    expect(slow.stats().documents_stored).toBe(60);
  });
});

describe('migrate from a source that never holds still', () => {
  const sandbox = makeSandbox();
  let target: RunningEmulator;
  let source: HostileServer;
  beforeAll(async () => {
    target = await startEmulator({ processingDelayMs: 0 });
    // Every list request finds one memory consolidated away and a new one made: same total.
    let shift = 0;
    source = await startHostileServer((req) => {
      const url = new URL(req.path, 'http://x');
      if (url.pathname === '/api/v1/auth/whoami') {
        return json(200, {
          client_id: 'cli_00000000000000aa',
          instance_id: 'inst_00000000000000aa',
        });
      }
      if (url.pathname !== '/api/v1/memories') return undefined;
      const page = Number(url.searchParams.get('page'));
      const size = Number(url.searchParams.get('page_size'));
      const ids = Array.from({ length: 30 }, (_, i) => i + shift).slice(
        (page - 1) * size,
        page * size,
      );
      shift++;
      return json(200, {
        data: ids.map((i) => ({
          memory_id: `m_${i}`,
          content: `memory ${i}`,
          source_document_id: `d_${i}`,
          created_at: '2026-01-01T00:00:00Z',
          customer_id: 'acme',
        })),
        page,
        page_size: size,
        total: 30,
        total_pages: Math.ceil(30 / size),
      });
    });
    for (const [name, url, key] of [
      ['moving', source.url, 'synap_movingSourceKey0123456789abcdef'],
      ['dest', target.url, target.apiKey],
    ] as const) {
      await addProfile(runInProcess, sandbox.env, name, url, key);
    }
  });
  afterAll(async () => {
    await Promise.all([target.close(), source.close()]);
    sandbox.cleanup();
  });

  it('sends what it finds, then exits 3 saying completeness could not be shown', async () => {
    const r = await runInProcess(
      ['migrate', '--from', 'moving', '--to', 'dest', '--page-size', '10'],
      {
        env: sandbox.env,
        cwd: sandbox.dir,
      },
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('could not show that every memory of moving was migrated');
    expect(target.documents().length).toBeGreaterThanOrEqual(30);
  });
});
