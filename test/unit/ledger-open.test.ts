import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ledgerOpenError } from '../../src/commands/ingest-ledger.js';
import { CliError } from '../../src/errors.js';
import { Ledger, LEDGER_FILE } from '../../src/ledger/ledger.js';

const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * Another process reading `path` in rollback-journal mode (a shared lock) for `ms`: what a
 * second shard sees while the first is turning a new ledger into WAL mode, a change that needs
 * the file alone. Resolves once the lock is held; `done` when it is released and the process
 * has exited.
 */
async function holdShared(path: string, ms: number): Promise<{ done: Promise<void> }> {
  const script = `
    const Database = require(${JSON.stringify(sqlite)});
    const db = new Database(${JSON.stringify(path)});
    db.exec('CREATE TABLE IF NOT EXISTS other (x)');
    db.exec('BEGIN IMMEDIATE'); db.exec('INSERT INTO other VALUES (1)');
    process.stdout.write('held\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${ms});
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const done = new Promise<void>((resolve, reject) =>
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`holder exit ${code}`)))),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', () => reject(new Error('holder exited before holding the lock')));
  });
  return { done };
}

describe('opening the ledger while another process holds it', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'synap-ledger-open-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for a lock held while the file is turned into WAL mode, then opens it', async () => {
    const holder = await holdShared(join(dir, LEDGER_FILE), 400);
    const ledger = Ledger.open(dir);
    try {
      ledger.recordMany('inst', [{ documentId: 'doc-1', bodyHash: 'a'.repeat(40) }]);
      expect(ledger.lookup('inst', 'doc-1')).toBe('a'.repeat(40));
    } finally {
      ledger.close();
    }
    await holder.done;
  });

  it('gives up after its wait with an error that says the ledger is busy', async () => {
    const holder = await holdShared(join(dir, LEDGER_FILE), 700);
    let thrown: unknown;
    try {
      Ledger.open(dir, { busyMs: 150 }).close();
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).message).toMatch(/ledger .* is busy: another process held it/);
    // What the command says: a failure to run again (exit 1), not a usage error.
    const said = ledgerOpenError(dir, thrown, ['Set XDG_STATE_HOME to a directory you can write.']);
    expect(said).toBeInstanceOf(CliError);
    expect((said as CliError).exitCode).toBe(1);
    await holder.done;
  });
});
