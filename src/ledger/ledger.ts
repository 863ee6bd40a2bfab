import { chmodSync, closeSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { makeDirsSync } from '../make-dirs.js';

/**
 * What each instance holds, as far as this machine knows: per instance (whoami's `instance_id`),
 * `document_id` → the hash of the exact body the service accepted (`bodyHash`: 40 hex digits),
 * or null when the instance is known to hold the id but not with which body (`synap ledger
 * rebuild` of a document that brought its own id: the listing shows ids, not bodies).
 *
 * SQLite through better-sqlite3 in WAL mode, one file in the state directory (mode 0600). An
 * entry is written only after the service accepted its document, and a settled batch is one
 * transaction; `synchronous = NORMAL` makes a commit survive a killed process (only a power
 * loss can undo the last commits, which costs a resend, never a record). Several processes
 * (shards) may share the file: a write transaction takes the write lock when it begins (BEGIN
 * IMMEDIATE), waiting for another's transaction (SQLite's busy handler) rather than failing as a
 * reader turned writer would when another process wrote in between.
 */
export class Ledger {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly instances = new Map<string, number>();
  private readonly stmts;

  private constructor(path: string, busyMs: number) {
    this.path = path;
    makeDirsSync(dirname(path), 0o700);
    // Made private before SQLite opens it; its -wal and -shm files take the same mode.
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
    // The timeout is SQLite's busy handler: a statement waits up to busyMs for another
    // process's lock before it fails.
    this.db = new Database(path, { timeout: busyMs });
    prepareFile(this.db, path, busyMs);
    this.db.pragma('synchronous = NORMAL');
    // Lookups are random over the whole file: a larger page cache and memory-mapped reads keep
    // them off read() calls (both are bounds; a small ledger uses what it needs).
    this.db.pragma('cache_size = -65536');
    this.db.pragma('mmap_size = 1073741824');
    const db = this.db;
    this.stmts = {
      instance: db.prepare<[string], { id: number }>(
        'SELECT id FROM instances WHERE instance_id = ?',
      ),
      addInstance: db.prepare('INSERT OR IGNORE INTO instances (instance_id) VALUES (?)'),
      get: db
        .prepare<[number, string], string | null>(
          // hex in SQLite: a string comes back, not a Buffer to convert.
          'SELECT lower(hex(body_hash)) FROM documents WHERE instance = ? AND document_id = ?',
        )
        .pluck(),
      // One answer per element of the JSON array (first parameter; the instance second), in its order (json_each's key): NULL
      // when not held, '' when held with an unknown body, else the hash's hex digits.
      inOrder: db
        .prepare<[string, number], string | null>(
          `SELECT CASE WHEN d.document_id IS NULL THEN NULL ELSE lower(hex(d.body_hash)) END
             FROM json_each(?) AS j
             LEFT JOIN documents AS d ON d.instance = ? AND d.document_id = j.value
            ORDER BY j.key`,
        )
        .pluck(),
      put: db.prepare<[number, string, Buffer | null]>(
        'INSERT OR REPLACE INTO documents (instance, document_id, body_hash) VALUES (?, ?, ?)',
      ),
      forgetOne: db.prepare<[number, string]>(
        'DELETE FROM documents WHERE instance = ? AND document_id = ?',
      ),
      forgetAll: db.prepare<[number]>('DELETE FROM documents WHERE instance = ?'),
      refusedGet: db
        .prepare<[number, string], string>(
          'SELECT lower(hex(body_hash)) FROM refused WHERE instance = ? AND document_id = ?',
        )
        .pluck(),
      refusedPut: db.prepare<[number, string, Buffer]>(
        'INSERT OR REPLACE INTO refused (instance, document_id, body_hash) VALUES (?, ?, ?)',
      ),
      refusedDrop: db.prepare<[number, string]>(
        'DELETE FROM refused WHERE instance = ? AND document_id = ?',
      ),
      refusedDropAll: db.prepare<[number]>('DELETE FROM refused WHERE instance = ?'),
      generation: db
        .prepare<[number], number>('SELECT n FROM generations WHERE instance = ?')
        .pluck(),
      finished: db.prepare<[number, string], FinishedRow>(
        `SELECT bytes, sha256, options_hash, version, records, documents, generation
           FROM finished_inputs WHERE instance = ? AND path = ?`,
      ),
      finishedPut: db.prepare<
        [number, string, number, string, string, string, number, number, number]
      >(
        `INSERT OR REPLACE INTO finished_inputs
           (instance, path, bytes, sha256, options_hash, version, records, documents, generation)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      finishedDrop: db.prepare<[number, string]>(
        'DELETE FROM finished_inputs WHERE instance = ? AND path = ?',
      ),
      finishedDropAll: db.prepare<[number]>('DELETE FROM finished_inputs WHERE instance = ?'),
      status: db.prepare<[], { instance_id: string; documents: number; unknown_bodies: number }>(
        `SELECT i.instance_id AS instance_id, count(d.document_id) AS documents,
                count(d.document_id) - count(d.body_hash) AS unknown_bodies
           FROM instances i LEFT JOIN documents d ON d.instance = i.id
          GROUP BY i.id ORDER BY i.instance_id`,
      ),
    };
  }

  /** Opens (creating when needed) the ledger, `ledger.sqlite` in `stateDir`. */
  static open(stateDir: string, o: { busyMs?: number } = {}): Ledger {
    return new Ledger(join(stateDir, LEDGER_FILE), o.busyMs ?? BUSY_MS);
  }

  /** The ledger of one instance. */
  instance(instanceId: string): InstanceLedger {
    return new InstanceLedger(this, instanceId);
  }

  /** The body hash held for `documentId`: a string, null (held, body unknown), undefined (not held). */
  lookup(instanceId: string, documentId: string): string | null | undefined {
    const inst = this.instanceKey(instanceId, false);
    return inst === undefined ? undefined : held(this.stmts.get.get(inst, documentId));
  }

  /**
   * The answer of `lookup` for each of many ids, in their order. The ids go to SQLite as one
   * JSON array per query of up to a thousand (json_each joined to the primary key), and the
   * answers come back as one column in the same order: one call into SQLite per thousand ids,
   * no id sent back, nothing keyed in JS. An id that is not well-formed UTF-16 (a lone
   * surrogate: JSON and a bound string would disagree on its bytes) is looked up alone.
   */
  lookupInOrder(instanceId: string, documentIds: readonly string[]): (string | null | undefined)[] {
    const out = new Array<string | null | undefined>(documentIds.length).fill(undefined);
    const inst = this.instanceKey(instanceId, false);
    if (inst === undefined) return out;
    for (let at = 0; at < documentIds.length; at += IN_ORDER) {
      const ids =
        documentIds.length <= IN_ORDER ? documentIds : documentIds.slice(at, at + IN_ORDER);
      const hashes = this.stmts.inOrder.all(JSON.stringify(ids), inst);
      for (let k = 0; k < ids.length; k++) {
        const id = ids[k]!;
        out[at + k] = isWellFormed(id) ? held(hashes[k]) : this.lookup(instanceId, id);
      }
    }
    return out;
  }

  /** Documents the service accepted, in one transaction. */
  recordMany(
    instanceId: string,
    entries: readonly { documentId: string; bodyHash: string | null }[],
  ): void {
    if (entries.length === 0) return;
    this.db
      .transaction(() => {
        const inst = this.instanceKey(instanceId, true)!;
        for (const e of entries) {
          this.stmts.put.run(inst, e.documentId, hashBytes(e.bodyHash));
          // The service took a body for the id: an earlier refusal no longer holds.
          this.stmts.refusedDrop.run(inst, e.documentId);
        }
      })
      .immediate();
  }

  /**
   * The service refused these bodies as already ingested under an id it holds with another
   * body (a 409 for an edited record): it kept its earlier version. Kept apart from what it
   * holds, so the ledger still names the body the service has, and the next run knows not to
   * send the same refused body again.
   */
  recordRefused(instanceId: string, entries: readonly { documentId: string; bodyHash: string }[]) {
    if (entries.length === 0) return;
    this.db
      .transaction(() => {
        const inst = this.instanceKey(instanceId, true)!;
        for (const e of entries)
          this.stmts.refusedPut.run(inst, e.documentId, hashBytes(e.bodyHash)!);
      })
      .immediate();
  }

  /** The body hash last refused for `documentId` (see recordRefused), if any. */
  refused(instanceId: string, documentId: string): string | undefined {
    const inst = this.instanceKey(instanceId, false);
    return inst === undefined ? undefined : this.stmts.refusedGet.get(inst, documentId);
  }

  /** Forgets the given documents of an instance, or all of them; returns how many were held. */
  forget(instanceId: string, documentIds?: readonly string[]): number {
    const inst = this.instanceKey(instanceId, false);
    if (inst === undefined) return 0;
    return this.db
      .transaction(() => {
        if (documentIds === undefined) {
          this.stmts.refusedDropAll.run(inst);
          this.stmts.finishedDropAll.run(inst);
          return this.stmts.forgetAll.run(inst).changes;
        }
        let n = 0;
        for (const id of documentIds) {
          this.stmts.refusedDrop.run(inst, id);
          n += this.stmts.forgetOne.run(inst, id).changes;
        }
        return n;
      })
      .immediate();
  }

  /**
   * Replaces what the ledger says an instance holds with the ids of its own listing, read page
   * after page (`pages`), in one transaction at the end: an interrupted rebuild changes nothing.
   * A listed id keeps the body hash known here, else takes the one its id names (a `--id-from
   * hash` id), else null (held, body unknown); an id known here but not listed is forgotten.
   */
  async rebuild(
    instanceId: string,
    pages: AsyncIterable<readonly string[]>,
    bodyOf: (documentId: string) => string | null,
  ): Promise<RebuildCounts> {
    this.db.exec(
      'CREATE TEMP TABLE IF NOT EXISTS listed (document_id TEXT PRIMARY KEY) WITHOUT ROWID',
    );
    this.db.exec('DELETE FROM temp.listed');
    const add = this.db.prepare<[string]>(
      'INSERT OR IGNORE INTO temp.listed (document_id) VALUES (?)',
    );
    for await (const ids of pages) {
      this.db.transaction(() => {
        for (const id of ids) add.run(id);
      })();
    }
    return this.db
      .transaction((): RebuildCounts => {
        const inst = this.instanceKey(instanceId, true)!;
        const listed = (
          this.db.prepare('SELECT count(*) AS n FROM temp.listed').get() as { n: number }
        ).n;
        const removed = this.db
          .prepare(
            'DELETE FROM documents WHERE instance = ? AND document_id NOT IN (SELECT document_id FROM temp.listed)',
          )
          .run(inst).changes;
        const news = this.db
          .prepare<[number], { document_id: string }>(
            `SELECT document_id FROM temp.listed WHERE document_id NOT IN
             (SELECT document_id FROM documents WHERE instance = ?)`,
          )
          .all(inst);
        let unknown = 0;
        for (const { document_id } of news) {
          const hash = bodyOf(document_id);
          if (hash === null) unknown += 1;
          this.stmts.put.run(inst, document_id, hashBytes(hash));
        }
        this.db.exec('DELETE FROM temp.listed');
        return {
          listed,
          added: news.length,
          removed,
          kept: listed - news.length,
          unknown_bodies: unknown,
        };
      })
      .immediate();
  }

  /**
   * A count that grows whenever an entry of the instance is changed or removed (by this
   * version or an older one: triggers in the file keep it, see SCHEMA). Adding an entry for a
   * new id leaves it as it is. Equal counts at two moments: every entry held at the first is
   * held, with the same body, at the second.
   */
  generation(instanceId: string): number {
    const inst = this.instanceKey(instanceId, false);
    return inst === undefined ? 0 : (this.stmts.generation.get(inst) ?? 0);
  }

  /** What is remembered of an input every record of which the instance held (see recordFinished). */
  finishedInput(instanceId: string, path: string): FinishedInput | undefined {
    const inst = this.instanceKey(instanceId, false);
    if (inst === undefined) return undefined;
    const row = this.stmts.finished.get(inst, path);
    return row && { path, ...row };
  }

  /**
   * Remembers that the first `records` records of the input at `path` (its first `bytes` bytes,
   * read with the options `options_hash` by `version`) are each held by the instance with the
   * very body they map to, as of generation `since` (read before the run asked about any of
   * them). Kept only when no entry of the instance changed since; else what was remembered of
   * the path is dropped. Returns whether it was kept.
   */
  recordFinished(instanceId: string, input: FinishedInput, since: number): boolean {
    return this.db
      .transaction(() => {
        const inst = this.instanceKey(instanceId, true)!;
        if ((this.stmts.generation.get(inst) ?? 0) !== since) {
          this.stmts.finishedDrop.run(inst, input.path);
          return false;
        }
        this.stmts.finishedPut.run(
          inst,
          input.path,
          input.bytes,
          input.sha256,
          input.options_hash,
          input.version,
          input.records,
          input.documents,
          since,
        );
        return true;
      })
      .immediate();
  }

  /** Every instance known here, with how many documents it holds. */
  status(): { instance_id: string; documents: number; unknown_bodies: number }[] {
    return this.stmts.status.all();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private instanceKey(instanceId: string, create: boolean): number | undefined {
    let id = this.instances.get(instanceId);
    if (id !== undefined) return id;
    if (create) this.stmts.addInstance.run(instanceId);
    id = this.stmts.instance.get(instanceId)?.id;
    if (id !== undefined) this.instances.set(instanceId, id);
    return id;
  }
}

/** One instance's part of the ledger: what an ingest asks and tells. */
export class InstanceLedger {
  constructor(
    private readonly ledger: Ledger,
    readonly instanceId: string,
  ) {}

  /** The ids of the last prefetch, their answers, and where the next lookup is expected. */
  private fetchedIds: readonly string[] = [];
  private fetched: (string | null | undefined)[] = [];
  private next = 0;

  /**
   * Answered from the last prefetch when the id is in it at or after the previous answer (the
   * pipeline asks in the order it prefetched, skipping some); else asked of the ledger.
   */
  lookup(documentId: string): string | null | undefined {
    const ids = this.fetchedIds;
    for (let k = this.next; k < ids.length; k++) {
      if (ids[k] === documentId) {
        this.next = k + 1;
        return this.fetched[k];
      }
    }
    return this.ledger.lookup(this.instanceId, documentId);
  }

  /** Looks up these ids together; the lookups of them that follow are answered from memory. */
  prefetch(documentIds: readonly string[]): void {
    this.fetchedIds = documentIds;
    this.fetched = this.ledger.lookupInOrder(this.instanceId, documentIds);
    this.next = 0;
  }

  recordMany(entries: readonly { documentId: string; bodyHash: string | null }[]): void {
    this.ledger.recordMany(this.instanceId, entries);
  }

  refused(documentId: string): string | undefined {
    return this.ledger.refused(this.instanceId, documentId);
  }

  recordRefused(entries: readonly { documentId: string; bodyHash: string }[]): void {
    this.ledger.recordRefused(this.instanceId, entries);
  }

  generation(): number {
    return this.ledger.generation(this.instanceId);
  }

  finishedInput(path: string): FinishedInput | undefined {
    return this.ledger.finishedInput(this.instanceId, path);
  }

  recordFinished(input: FinishedInput, since: number): boolean {
    return this.ledger.recordFinished(this.instanceId, input, since);
  }
}

/**
 * An input every record of which the instance holds as it maps them: its first `bytes` bytes
 * (sha256 `sha256`) hold `records` records (`documents` of them not empty), read with the
 * options whose hash is `options_hash` by synap `version`; true as of the ledger's `generation`.
 */
export interface FinishedInput {
  path: string;
  bytes: number;
  sha256: string;
  options_hash: string;
  version: string;
  records: number;
  documents: number;
  generation: number;
}

type FinishedRow = Omit<FinishedInput, 'path'>;

export const LEDGER_FILE = 'ledger.sqlite';

/** How long opening or writing the ledger waits for another process (a shard) holding it. */
const BUSY_MS = 10_000;

/** The ledger file could not be had within the wait: another process held it throughout. */
export class LedgerBusyError extends Error {
  constructor(
    readonly path: string,
    waitedMs: number,
    cause: unknown,
  ) {
    super(
      `the ledger ${path} is busy: another process held it for ${Math.round(waitedMs / 1000)} s`,
      { cause },
    );
    this.name = 'LedgerBusyError';
  }
}

/**
 * Puts the file in WAL mode and creates the tables, waiting for other processes that open it at
 * the same moment (shards started together). Turning a new file into WAL mode needs it alone,
 * and SQLite fails that at once, without its busy handler, when another connection is writing
 * to it: so the whole step is tried again, with a growing pause, until `busyMs` has passed. WAL
 * mode is kept in the file, so once any process has set it the others find it set and take no
 * lock for it.
 */
function prepareFile(db: Database.Database, path: string, busyMs: number): void {
  const start = Date.now();
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    try {
      if (db.pragma('journal_mode', { simple: true }) !== 'wal') {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (mode !== 'wal')
          throw Object.assign(new Error(`journal mode stayed ${String(mode)}`), {
            code: 'SQLITE_BUSY',
          });
      }
      db.exec(SCHEMA);
      return;
    } catch (err) {
      if (!isBusy(err)) throw err;
      const waited = Date.now() - start;
      if (waited >= busyMs) throw new LedgerBusyError(path, waited, err);
      sleepSync(Math.min(pause + Math.random() * pause, busyMs - waited));
    }
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
  );
}

/** Blocks the thread for `ms` (opening the ledger is synchronous, as every SQLite call here is). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Ids per lookup query (one JSON array each). */
const IN_ORDER = 1000;

/** A stored answer: null (not held) → undefined, '' (held, body unknown) → null. */
function held(hash: string | null | undefined): string | null | undefined {
  if (hash === null || hash === undefined) return undefined;
  return hash === '' ? null : hash;
}

/** Whether a string has no lone surrogate (String.prototype.isWellFormed, Node >= 20). */
function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** What a rebuild did. */
export interface RebuildCounts {
  /** Distinct document ids in the listing. */
  listed: number;
  /** Listed ids the ledger did not hold (now held). */
  added: number;
  /** Listed ids it held already (their known body hashes kept). */
  kept: number;
  /** Ids it held that the listing does not show (forgotten: they are sent again). */
  removed: number;
  /** Of `added`, ids whose body the listing cannot tell (not `--id-from hash` ids). */
  unknown_bodies: number;
}

/** A body hash as stored: 20 bytes (the 40 hex digits), or null for an unknown body. */
function hashBytes(hash: string | null): Buffer | null {
  if (hash === null) return null;
  if (!/^[0-9a-f]{40}$/.test(hash)) throw new Error(`ledger: not a body hash: ${hash}`);
  return Buffer.from(hash, 'hex');
}

/**
 * The file's tables. `generations` counts, per instance, every entry changed or removed: the
 * triggers fire for whatever writes the file, this version or an earlier one (whose INSERT OR
 * REPLACE of an entry with another body is seen before the insert, as the replaced row's
 * delete fires no trigger). `finished_inputs` is what finished.ts remembers of inputs. A file
 * written by an earlier version gains the tables and triggers it lacks when it is opened; no
 * table it has is changed, so every entry it holds stays.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  id INTEGER PRIMARY KEY,
  instance_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS documents (
  instance INTEGER NOT NULL,
  document_id TEXT NOT NULL,
  body_hash BLOB,
  PRIMARY KEY (instance, document_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refused (
  instance INTEGER NOT NULL,
  document_id TEXT NOT NULL,
  body_hash BLOB NOT NULL,
  PRIMARY KEY (instance, document_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS generations (
  instance INTEGER PRIMARY KEY,
  n INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS finished_inputs (
  instance INTEGER NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  options_hash TEXT NOT NULL,
  version TEXT NOT NULL,
  records INTEGER NOT NULL,
  documents INTEGER NOT NULL,
  generation INTEGER NOT NULL,
  PRIMARY KEY (instance, path)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS documents_replaced BEFORE INSERT ON documents
WHEN EXISTS (SELECT 1 FROM documents WHERE instance = new.instance
             AND document_id = new.document_id AND body_hash IS NOT new.body_hash)
BEGIN
  INSERT INTO generations (instance, n) VALUES (new.instance, 1)
    ON CONFLICT (instance) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS documents_changed AFTER UPDATE ON documents
BEGIN
  INSERT INTO generations (instance, n) VALUES (old.instance, 1)
    ON CONFLICT (instance) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS documents_removed AFTER DELETE ON documents
BEGIN
  INSERT INTO generations (instance, n) VALUES (old.instance, 1)
    ON CONFLICT (instance) DO UPDATE SET n = n + 1;
END;
`;
