import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatorStore } from '../../src/emulator/store.js';
import { validateCreate } from '../../src/emulator/validate.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('emulator store', () => {
  it('opens a database made before scope paths existed and stores a scope in it', () => {
    dir = mkdtempSync(join(tmpdir(), 'synap-store-'));
    const path = join(dir, 'emulator.db');
    const old = new EmulatorStore(path);
    old.insertDocuments([validateCreate({ document: 'old row', document_id: 'old-1' })], 0, 0);
    old.close();
    // The schema as it was: no scope columns.
    const db = new Database(path);
    db.exec('ALTER TABLE documents DROP COLUMN scope; ALTER TABLE memories DROP COLUMN scope;');
    db.close();

    const store = new EmulatorStore(path);
    try {
      const scoped = validateCreate({
        document: 'new row',
        document_id: 'new-1',
        scope: { customer: 'acme' },
      });
      expect(store.insertDocuments([scoped], 0, 0)[0]).toMatchObject({ ok: true });
      const docs = store.documents();
      expect(docs.map((d) => [d.document_id, d.scope])).toEqual([
        ['old-1', null],
        ['new-1', { customer: 'acme' }],
      ]);
      const page = store.listMemories({}, 1, 10);
      expect(page.total).toBe(2);
      expect(page.data[0]).not.toHaveProperty('scope');
      expect(page.data[1]!.scope).toEqual({ customer: 'acme' });
    } finally {
      store.close();
    }
  });
});
