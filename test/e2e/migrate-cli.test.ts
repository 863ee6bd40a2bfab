import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, runShell } from '../helpers/cli.js';
import { seedMemories } from '../helpers/export.js';

const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

/** What a target holds, in a form two targets can be compared by (ids and content, no server ids). */
function holdings(emu: RunningEmulator) {
  return emu
    .documents()
    .map((d) => ({
      document_id: d.document_id,
      document: d.document,
      document_type: d.document_type,
      document_created_at: d.document_created_at,
      user_id: d.user_id,
      customer_id: d.customer_id,
      metadata: d.metadata,
    }))
    .sort((a, b) => (a.document_id < b.document_id ? -1 : 1));
}

describe('export | ingest and migrate', () => {
  const sandbox = makeSandbox();
  let source: RunningEmulator;
  let piped: RunningEmulator;
  let migrated: RunningEmulator;

  beforeAll(async () => {
    [source, piped, migrated] = await Promise.all([
      startEmulator({ processingDelayMs: 0 }),
      startEmulator({ processingDelayMs: 0 }),
      startEmulator({ processingDelayMs: 0 }),
    ]);
    await seedMemories(source, 600);
    // Two profiles with their own base URL and key, as a user would set them up.
    for (const [name, emu] of [
      ['staging', source],
      ['prod', migrated],
    ] as const) {
      const set = await runCli(['--profile', name, 'config', 'set', 'base_url', emu.url], {
        env: sandbox.env,
      });
      expect(set.code, set.stderr).toBe(0);
      const login = await runCli(['--profile', name, 'auth', 'login', '--api-key-stdin'], {
        env: sandbox.env,
        input: emu.apiKey,
      });
      expect(login.code, login.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await Promise.all([source.close(), piped.close(), migrated.close()]);
    sandbox.cleanup();
  });

  it('`export | ingest -` copies every memory into a second emulator', async () => {
    const r = await runShell(
      `SYNAP_BASE_URL="${source.url}" SYNAP_API_KEY="${source.apiKey}" synap export | ` +
        `SYNAP_BASE_URL="${piped.url}" SYNAP_API_KEY="${piped.apiKey}" synap ingest - --format jsonl`,
      { env: sandbox.env },
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(0);
    const got = holdings(piped);
    expect(got).toHaveLength(600);
    // The content of every source memory arrived, with its user and original creation time.
    const sourceDocs = new Map(source.documents().map((d) => [d.document_id, d]));
    const texts = new Set(got.map((d) => d.document));
    for (const d of sourceDocs.values()) expect(texts.has(d.document.trim())).toBe(true);
    expect(new Set(got.map((d) => d.user_id))).toEqual(
      new Set([...sourceDocs.values()].map((d) => d.user_id)),
    );
  });

  it('migrate ends with the same documents as export | ingest, and a second migrate adds nothing', async () => {
    const r = await runCli(['migrate', '--from', 'staging', '--to', 'prod'], {
      env: sandbox.env,
      timeoutMs: 90_000,
    });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(0);
    expect(holdings(migrated)).toEqual(holdings(piped));
    // Neither key was printed.
    expect(r.stderr + r.stdout).not.toContain(source.apiKey);
    expect(r.stderr + r.stdout).not.toContain(migrated.apiKey);

    const before = migrated.stats();
    const again = await runCli(['--json', 'migrate', '--from', 'staging', '--to', 'prod'], {
      env: sandbox.env,
      timeoutMs: 90_000,
    });
    expect(again.code, again.stderr).toBe(0);
    const after = migrated.stats();
    expect(after.documents_stored).toBe(600);
    expect(after.documents_accepted - before.documents_accepted).toBe(0);
    expect(after.duplicates_refused - before.duplicates_refused).toBe(600);
    expect(again.stdout).toMatch(/"skipped":\s*600/);
  });

  it('migrate into the target of export | ingest adds nothing either (same document ids)', async () => {
    const login = await runCli(['--profile', 'piped', 'config', 'set', 'base_url', piped.url], {
      env: sandbox.env,
    });
    expect(login.code).toBe(0);
    const key = await runCli(['--profile', 'piped', 'auth', 'login', '--api-key-stdin'], {
      env: sandbox.env,
      input: piped.apiKey,
    });
    expect(key.code).toBe(0);
    const before = piped.stats().documents_accepted;
    const r = await runCli(['migrate', '--from', 'staging', '--to', 'piped'], { env: sandbox.env });
    expect(r.code, r.stderr).toBe(0);
    expect(piped.stats().documents_accepted).toBe(before);
    expect(piped.stats().documents_stored).toBe(600);
  });

  it('refuses a migration onto the same profile', async () => {
    const r = await runCli(['migrate', '--from', 'staging', '--to', 'staging'], {
      env: sandbox.env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('same');
  });

  it('--verbose shows the retry policy once, though migrate opens two sessions', async () => {
    const r = await runCli(['-v', 'migrate', '--from', 'staging', '--to', 'prod', '--dry-run'], {
      env: sandbox.env,
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('synap: retry policy:'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/5 attempts per call, backoff 0\.5s…20s full jitter, budget 20/);
    expect(lines[0]).toContain('uncertain writes repeated only when idempotent');
    // Then one line per HTTP request, after the policy.
    expect(r.stderr.indexOf('synap: http GET')).toBeGreaterThan(r.stderr.indexOf('retry policy'));
  });
});
