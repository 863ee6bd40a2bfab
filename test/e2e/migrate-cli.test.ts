import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, runShell, spawnCli } from '../helpers/cli.js';
import { parseLines } from '../helpers/export.js';
import { STACK_LINE, useEmulators } from '../helpers/fixtures/migrate.js';
import { runInProcess } from '../helpers/in-process.js';

/*
 * The pipe (`export | ingest -`) and the run holding the migrate lock are processes of their
 * own, and so is the second migration the lock refuses; the logins and the migrations compared
 * run in this process (test/helpers/in-process.ts), which shows their answers as the binary would.
 */

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

  useEmulators(runInProcess, sandbox, 3, { seed: 600, profiles: { staging: 0, prod: 2 } }, (e) => {
    [source, piped, migrated] = e;
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

  it("migrate keeps the source's document ids, texts, dates and fields; a second migrate adds nothing", async () => {
    const r = await runInProcess(['migrate', '--from', 'staging', '--to', 'prod'], {
      env: sandbox.env,
      timeoutMs: 90_000,
    });
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.code, r.stderr).toBe(0);
    const got = new Map(holdings(migrated).map((d) => [d.document_id, d]));
    expect(got.size).toBe(600);
    const memories = new Map(
      parseLines(
        (
          await runInProcess(['export'], {
            env: { ...sandbox.env, SYNAP_BASE_URL: source.url, SYNAP_API_KEY: source.apiKey },
          })
        ).stdout,
      ).map((m) => [m.source_document_id as string, m]),
    );
    for (const d of source.documents()) {
      // Under the source's own document_id, with the source document's own time.
      const t = got.get(d.document_id)!;
      expect(t).toBeDefined();
      expect(t.document_created_at).toBe(d.document_created_at);
      expect(t.document).toBe(d.document.trim());
      expect([t.user_id, t.customer_id, t.document_type]).toEqual([
        d.user_id,
        d.customer_id,
        d.document_type,
      ]);
      // Every field of the exported memory is kept: its metadata as metadata, the rest in
      // metadata.synap_export.
      const m = memories.get(d.document_id)!;
      const { synap_export, ...meta } = t.metadata as { synap_export: Record<string, unknown> };
      expect(meta).toEqual(m.metadata);
      for (const [k, v] of Object.entries(m)) {
        if (['content', 'metadata', 'user_id', 'customer_id', 'document_type'].includes(k))
          continue;
        if (k === 'document_created_at') continue; // the document's own field now
        expect(synap_export[k], k).toEqual(v);
      }
    }
    // Neither key was printed; nothing is left in the state directory.
    expect(r.stderr + r.stdout).not.toContain(source.apiKey);
    expect(r.stderr + r.stdout).not.toContain(migrated.apiKey);
    const stateDir = join(sandbox.dir, '.local', 'state', 'synap');
    expect(
      existsSync(stateDir) ? readdirSync(stateDir).filter((f) => f.startsWith('migrate-')) : [],
    ).toEqual([]);

    const before = migrated.stats();
    const again = await runInProcess(['--json', 'migrate', '--from', 'staging', '--to', 'prod'], {
      env: sandbox.env,
      timeoutMs: 90_000,
    });
    expect(again.code, again.stderr).toBe(0);
    const after = migrated.stats();
    expect(after.documents_stored).toBe(600);
    expect(after.documents_accepted - before.documents_accepted).toBe(0);
    // The target's ledger knows what the first migrate sent: nothing is sent again.
    expect(after.duplicates_refused - before.duplicates_refused).toBe(0);
    expect(JSON.parse(again.stdout).result).toMatchObject({ sent: 0, unchanged: 600 });
  });
});

describe('migrate against a slow target', () => {
  const sandbox = makeSandbox();
  let slow: RunningEmulator;
  useEmulators(runInProcess, sandbox, 2, { seed: 300, profiles: { a: 0, b: 1 } }, (e) => {
    [, slow] = e;
  });

  it('a second migration of the same pair while one runs stops at once (exit 5), naming the lock', async () => {
    slow.setFaults({ latencyMs: 250 });
    const args = [
      'migrate',
      '--from',
      'a',
      '--to',
      'b',
      '--restart',
      // Sends everything again, so the first run is still sending when the second starts
      // (the target's ledger would otherwise let it finish at once).
      '--resend',
      '--batch-size',
      '10',
      '--concurrency',
      '1',
    ];
    // The bound counts from the start, the pre-flight included: room for the second run's
    // start-up and pre-flight on a loaded machine while the first still holds the lock.
    const first = spawnCli([...args, '--max-duration', '8s'], {
      env: sandbox.env,
      cwd: sandbox.dir,
    });
    const stateDir = join(sandbox.dir, '.local', 'state', 'synap');
    const deadline = Date.now() + 20_000;
    while (!(
      existsSync(stateDir) && readdirSync(stateDir).some((f) => f.endsWith('.synap-lock'))
    )) {
      if (Date.now() > deadline)
        throw new Error(`no lock appeared: ${JSON.stringify(await first.done)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    // A process too: the slow target's delayed answers to the first are timers of this process,
    // which an in-process run would count as its own.
    const second = await runCli(args, { env: sandbox.env, cwd: sandbox.dir });
    expect(second.code, second.stderr).toBe(5);
    expect(second.stderr).toContain('not starting a second one');
    // The first, still sending, is stopped with Ctrl-C rather than waited on until its
    // --max-duration (which only bounds it): it ends as interrupted and releases the lock.
    first.child.kill('SIGINT');
    const done = await first.done;
    expect(done.code, done.stderr).toBe(130);
    expect(readdirSync(stateDir).some((f) => f.endsWith('.synap-lock'))).toBe(false);
  });
});

describe('migrate --wait-lock', () => {
  const sandbox = makeSandbox();
  let target: RunningEmulator;
  useEmulators(runCli, sandbox, 2, { seed: 5, profiles: { a: 0, b: 1 } }, (e) => {
    [, target] = e;
  });

  it('Ctrl-C while it waits for the lock of a running migration ends it as an interruption (130)', async () => {
    const args = ['migrate', '--from', 'a', '--to', 'b'];
    // A first migration names the pair's lock file while it holds it (a slow target gives the
    // time to see it); once it has ended, a live process on this host (this test runner) holds it.
    target.setFaults({ latencyMs: 250 });
    const first = spawnCli(args, { env: sandbox.env, cwd: sandbox.dir });
    const stateDir = join(sandbox.dir, '.local', 'state', 'synap');
    const lockName = () =>
      existsSync(stateDir)
        ? readdirSync(stateDir).find((f) => f.endsWith('.synap-lock'))
        : undefined;
    const deadline = Date.now() + 20_000;
    while (lockName() === undefined) {
      if (Date.now() > deadline)
        throw new Error(`no lock appeared: ${JSON.stringify(await first.done)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const lock = join(stateDir, lockName()!);
    expect((await first.done).code).toBe(0);
    target.setFaults({ latencyMs: 0 });
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), profile: 'b', started_at: '' }),
    );
    const whoamis = () => target.stats().requests_by_endpoint.whoami ?? 0;
    const before = whoamis();
    const waiting = spawnCli([...args, '--wait-lock'], { env: sandbox.env, cwd: sandbox.dir });
    // Past its pre-flight (whoami answered), it waits on the lock.
    while (whoamis() === before) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    waiting.child.kill('SIGINT');
    const r = await waiting.done;
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(r.stderr).not.toMatch(STACK_LINE);
    // The lock it waited for is still the holder's.
    expect(existsSync(lock)).toBe(true);
  });
});
