import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type {
  CreateMemoryResponse,
  IngestStatus,
  Memory,
  MemoryStatusResponse,
} from '../client/types.js';
import { makeDirsSync } from '../make-dirs.js';
import { PageMarks, type ListFilter } from './page-marks.js';
import type { StoredDocumentSummary } from './types.js';
import type { ValidDocument, ValidUpdate } from './validate.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS api_keys (key TEXT PRIMARY KEY, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  seq INTEGER PRIMARY KEY,
  document_id TEXT NOT NULL UNIQUE,
  ingestion_id TEXT NOT NULL UNIQUE,
  document TEXT NOT NULL,
  document_type TEXT NOT NULL,
  mode TEXT NOT NULL,
  document_created_at TEXT,
  user_id TEXT,
  customer_id TEXT,
  metadata TEXT NOT NULL,
  scope TEXT,
  times_received INTEGER NOT NULL DEFAULT 1,
  queued_at INTEGER NOT NULL,
  due_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  completed_at INTEGER,
  memories_created INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS documents_pending ON documents(due_at) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS failed_ingestions (
  ingestion_id TEXT PRIMARY KEY,
  document_id TEXT,
  queued_at INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  error_message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS memories (
  seq INTEGER PRIMARY KEY,
  memory_id TEXT NOT NULL UNIQUE,
  ingestion_id TEXT NOT NULL,
  source_document_id TEXT NOT NULL,
  memory_type TEXT NOT NULL,
  content TEXT NOT NULL,
  confidence REAL NOT NULL,
  category TEXT,
  subcategory TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  user_id TEXT,
  customer_id TEXT,
  document_type TEXT,
  document_created_at TEXT,
  metadata TEXT NOT NULL,
  scope TEXT
);
CREATE INDEX IF NOT EXISTS memories_ingestion ON memories(ingestion_id);
CREATE INDEX IF NOT EXISTS memories_user ON memories(user_id, seq);
CREATE INDEX IF NOT EXISTS memories_customer ON memories(customer_id, seq);
`;

/** A document as `documents()` reads it: the summary's columns, metadata and scope as JSON text. */
type SummaryRow = Omit<StoredDocumentSummary, 'metadata' | 'scope'> & {
  metadata: string;
  scope: string | null;
};

interface DocumentRow extends SummaryRow {
  seq: number;
  queued_at: number;
  due_at: number;
  state: 'pending' | 'completed';
  completed_at: number | null;
  memories_created: number;
}

/**
 * The columns of a memory in the order of the memory object it becomes (toMemory), `seq` last.
 * After the service's fields come extras it may not send; export keeps them and migrate can
 * reuse them.
 */
const MEMORY_COLUMNS = `memory_id, memory_type, content, confidence, category, subcategory,
  created_at, updated_at, source_document_id, ingestion_id, user_id, customer_id, document_type,
  document_created_at, metadata, scope, seq`;

interface MemoryRow {
  seq: number;
  memory_id: string;
  ingestion_id: string;
  source_document_id: string;
  memory_type: string;
  content: string;
  confidence: number;
  category: string | null;
  subcategory: string | null;
  created_at: number;
  updated_at: number;
  user_id: string | null;
  customer_id: string | null;
  document_type: string | null;
  document_created_at: string | null;
  metadata: string;
  scope: string | null;
}

export type { ListFilter } from './page-marks.js';

/** Outcome of storing one document: the create answer, or a duplicate refused. */
type InsertOutcome = ({ ok: true } & CreateMemoryResponse) | { ok: false; document_id: string };

export const iso = (ms: number) => new Date(ms).toISOString();

/** Memory type a document of each type would mostly produce; just enough variety to look real. */
function memoryTypeFor(documentType: string): string {
  return documentType === 'ai-chat-conversation' || documentType === 'meeting-transcript'
    ? 'episode'
    : 'fact';
}

/**
 * The emulator's SQLite database (better-sqlite3, WAL). All statements are prepared once; a batch
 * is stored in one transaction so large ingests stay fast.
 */
export class EmulatorStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts;
  /** Pending ingestions, so reads skip the "complete what is due" query when nothing is pending. */
  private pending: number;
  /** Totals and positions that make list pages O(page_size). */
  private readonly marks = new PageMarks();
  private dataVersion = -1;

  constructor(path: string) {
    this.path = path;
    if (path !== ':memory:') makeDirsSync(dirname(path));
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // Durable enough for a development tool, and an fsync per commit would cap throughput.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Databases made before scope paths existed get the column added.
    for (const table of ['documents', 'memories']) {
      const columns = this.db.pragma(`table_info(${table})`) as { name: string }[];
      if (!columns.some((c) => c.name === 'scope')) {
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN scope TEXT`);
      }
    }
    const db = this.db;
    this.stmts = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)'),
      keys: db.prepare<[], { key: string }>('SELECT key FROM api_keys ORDER BY created_at, rowid'),
      addKey: db.prepare('INSERT OR IGNORE INTO api_keys (key, created_at) VALUES (?, ?)'),
      // An upsert that tells a new row (our fresh ingestion_id comes back) from a repeat.
      upsertDocument: db.prepare<unknown[], { ingestion_id: string }>(
        `INSERT INTO documents (document_id, ingestion_id, document, document_type, mode,
           document_created_at, user_id, customer_id, metadata, scope, queued_at, due_at, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
         ON CONFLICT(document_id) DO UPDATE SET times_received = times_received + 1
         RETURNING ingestion_id`,
      ),
      insertFailed: db.prepare(
        `INSERT INTO failed_ingestions (ingestion_id, document_id, queued_at, error_code, error_message)
         VALUES (?, ?, ?, ?, ?)`,
      ),
      due: db.prepare<[number], DocumentRow>(
        `SELECT * FROM documents WHERE state = 'pending' AND due_at <= ? ORDER BY due_at, seq`,
      ),
      pendingCount: db.prepare<[], { n: number }>(
        `SELECT count(*) AS n FROM documents WHERE state = 'pending'`,
      ),
      complete: db.prepare(
        `UPDATE documents SET state = 'completed', completed_at = ?, memories_created = ? WHERE seq = ?`,
      ),
      insertMemory: db.prepare(
        `INSERT INTO memories (memory_id, ingestion_id, source_document_id, memory_type, content,
           confidence, category, subcategory, created_at, updated_at, user_id, customer_id,
           document_type, document_created_at, metadata, scope)
         VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      documentByIngestion: db.prepare<[string], DocumentRow>(
        'SELECT * FROM documents WHERE ingestion_id = ?',
      ),
      failedByIngestion: db.prepare<
        [string],
        {
          ingestion_id: string;
          document_id: string | null;
          queued_at: number;
          error_message: string;
        }
      >('SELECT * FROM failed_ingestions WHERE ingestion_id = ?'),
      memoryIdsOf: db.prepare<[string], { memory_id: string }>(
        'SELECT memory_id FROM memories WHERE ingestion_id = ? ORDER BY seq',
      ),
      memory: db.prepare<[string], MemoryRow>(
        `SELECT ${MEMORY_COLUMNS} FROM memories WHERE memory_id = ?`,
      ),
      updateMemory: db.prepare(
        `UPDATE memories SET content = ?, document_type = ?, category = ?, metadata = ?, updated_at = ?
         WHERE memory_id = ?`,
      ),
      deleteMemory: db.prepare<
        [string],
        { seq: number; user_id: string | null; customer_id: string | null }
      >('DELETE FROM memories WHERE memory_id = ? RETURNING seq, user_id, customer_id'),
      allDocuments: db.prepare<[], SummaryRow>(
        `SELECT document_id, ingestion_id, user_id, customer_id, document_type, mode,
           document_created_at, metadata, document, scope, times_received
         FROM documents ORDER BY seq`,
      ),
    };
    this.pending = this.stmts.pendingCount.get()?.n ?? 0;
  }

  getMeta(name: string): string | undefined {
    return this.stmts.getMeta.get(name)?.value;
  }

  setMeta(name: string, value: string): void {
    this.stmts.setMeta.run(name, value);
  }

  apiKeys(): string[] {
    return this.stmts.keys.all().map((r) => r.key);
  }

  addApiKey(key: string, now: number): void {
    this.stmts.addKey.run(key, now);
  }

  /**
   * Stores documents in one transaction. With `delayMs` 0 they complete (and get their memory)
   * in the same transaction; otherwise they complete lazily once due (see completeDue).
   */
  insertDocuments(docs: ValidDocument[], now: number, delayMs: number): InsertOutcome[] {
    return this.inTransaction(() => {
      const out: InsertOutcome[] = [];
      for (const doc of docs) {
        const ingestionId = randomUUID();
        const documentId = doc.document_id ?? randomUUID();
        const metadata = JSON.stringify(doc.metadata);
        const row = this.stmts.upsertDocument.get(
          documentId,
          ingestionId,
          doc.document,
          doc.document_type,
          doc.mode,
          doc.document_created_at,
          doc.user_id,
          doc.customer_id,
          metadata,
          doc.scope === null ? null : JSON.stringify(doc.scope),
          now,
          now + delayMs,
        );
        if (row?.ingestion_id !== ingestionId) {
          out.push({ ok: false, document_id: documentId });
          continue;
        }
        this.pending++;
        out.push({
          ok: true,
          ingestion_id: ingestionId,
          document_id: documentId,
          status: delayMs <= 0 ? 'completed' : 'queued',
          queued_at: iso(now),
        });
      }
      if (delayMs <= 0) this.completeDueInTx(now);
      return out;
    });
  }

  /** Records a refused batch item so its ingestion_id answers status with 'failed'. */
  recordFailed(
    ingestionId: string,
    documentId: string | null,
    now: number,
    code: string,
    message: string,
  ): void {
    this.stmts.insertFailed.run(ingestionId, documentId, now, code, message);
  }

  /** Turns every ingestion that is due into memories (one per document, content = its text). */
  completeDue(now: number): void {
    if (this.pending > 0) this.inTransaction(() => this.completeDueInTx(now));
  }

  private inTransaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      // The in-memory counts may describe rows a rolled-back transaction never kept.
      this.marks.reset();
      this.pending = this.stmts.pendingCount.get()?.n ?? 0;
      throw err;
    }
  }

  private completeDueInTx(now: number): void {
    if (this.pending === 0) return;
    for (const doc of this.stmts.due.all(now)) {
      const at = doc.due_at;
      this.stmts.insertMemory.run(
        randomUUID(),
        doc.ingestion_id,
        doc.document_id,
        memoryTypeFor(doc.document_type),
        doc.document.trim(),
        0.9,
        doc.document_type,
        at,
        at,
        doc.user_id,
        doc.customer_id,
        doc.document_type,
        doc.document_created_at,
        doc.metadata,
        doc.scope,
      );
      this.marks.inserted(doc);
      this.stmts.complete.run(at, 1, doc.seq);
      this.pending--;
    }
  }

  /** Status of an ingestion, or undefined when unknown. The caller completes due work first. */
  status(ingestionId: string, now: number): MemoryStatusResponse | undefined {
    const doc = this.stmts.documentByIngestion.get(ingestionId);
    if (doc) {
      const halfway = doc.queued_at + (doc.due_at - doc.queued_at) / 2;
      const status: IngestStatus =
        doc.state === 'completed' ? 'completed' : now >= halfway ? 'processing' : 'queued';
      return {
        ingestion_id: doc.ingestion_id,
        document_id: doc.document_id,
        status,
        queued_at: iso(doc.queued_at),
        started_at: status === 'queued' ? null : iso(Math.floor(halfway)),
        completed_at: doc.completed_at === null ? null : iso(doc.completed_at),
        memories_created: doc.memories_created,
        memory_ids: this.stmts.memoryIdsOf.all(ingestionId).map((r) => r.memory_id),
        error_message: null,
      };
    }
    const failed = this.stmts.failedByIngestion.get(ingestionId);
    if (!failed) return undefined;
    return {
      ingestion_id: failed.ingestion_id,
      document_id: failed.document_id,
      status: 'failed',
      queued_at: iso(failed.queued_at),
      started_at: null,
      completed_at: iso(failed.queued_at),
      memories_created: 0,
      memory_ids: [],
      error_message: failed.error_message,
    };
  }

  getMemory(memoryId: string): Memory | undefined {
    const row = this.stmts.memory.get(memoryId);
    return row ? toMemory(row) : undefined;
  }

  updateMemory(memoryId: string, update: ValidUpdate, now: number): Memory | undefined {
    const row = this.stmts.memory.get(memoryId);
    if (!row) return undefined;
    let content = update.document;
    if (update.merge_strategy === 'append') content = `${row.content}\n${update.document}`;
    // smart-merge: keep what is there and add only text that is not already in it.
    if (update.merge_strategy === 'smart-merge') {
      content = row.content.includes(update.document.trim())
        ? row.content
        : `${row.content}\n${update.document.trim()}`;
    }
    const documentType = update.document_type ?? row.document_type;
    const metadata = update.metadata
      ? JSON.stringify({ ...(JSON.parse(row.metadata) as object), ...update.metadata })
      : row.metadata;
    this.stmts.updateMemory.run(content, documentType, documentType, metadata, now, memoryId);
    return toMemory(this.stmts.memory.get(memoryId)!);
  }

  deleteMemory(memoryId: string): boolean {
    const row = this.stmts.deleteMemory.get(memoryId);
    if (!row) return false;
    this.marks.deleted(row);
    return true;
  }

  /**
   * One page of memories in insertion order, with OFFSET's answers (`page` counts from 1 over
   * the rows as they are now) at O(page_size) per page: the total is kept up to date, and the
   * page seeks past the nearest position the previous pages marked (see page-marks.ts).
   */
  listMemories(
    filter: ListFilter,
    page: number,
    pageSize: number,
  ): { data: Memory[]; total: number } {
    this.noticeOtherWriters();
    const where: string[] = [];
    const params: (string | number)[] = [];
    const and = (condition: string, value: string | number) => {
      where.push(condition);
      params.push(value);
    };
    const clause = () => (where.length ? `WHERE ${where.join(' AND ')}` : '');
    if (filter.userId !== undefined) and('user_id = ?', filter.userId);
    if (filter.customerId !== undefined) and('customer_id = ?', filter.customerId);
    const count = this.cached(`SELECT count(*) FROM memories ${clause()}`).pluck();
    const total = this.marks.total(filter, () => count.get(...params) as number);
    const start = (page - 1) * pageSize;
    if (start >= total) return { data: [], total };
    const mark = this.marks.nearest(filter, start - 1);
    if (mark) and('seq > ?', mark.seq);
    const skip = mark ? start - 1 - mark.position : start;
    const rows = this.cached(
      `SELECT ${MEMORY_COLUMNS} FROM memories ${clause()} ORDER BY seq LIMIT ? OFFSET ?`,
    ).all(...params, pageSize, skip) as MemoryRow[];
    const last = rows[rows.length - 1];
    if (last) this.marks.remember(filter, start + rows.length - 1, last.seq);
    return { data: rows.map(toMemory), total };
  }

  /** Another connection (a second emulator on the same file) may have changed the rows. */
  private noticeOtherWriters(): void {
    const version = this.db.pragma('data_version', { simple: true }) as number;
    if (version !== this.dataVersion) {
      this.dataVersion = version;
      this.marks.reset();
    }
  }

  private readonly statementCache = new Map<string, Database.Statement>();
  private cached(sql: string): Database.Statement {
    const stmt = this.statementCache.get(sql) ?? this.db.prepare(sql);
    this.statementCache.set(sql, stmt);
    return stmt;
  }

  /** The rows of one table. */
  count(table: 'documents' | 'memories'): number {
    return this.cached(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  }

  documents(): StoredDocumentSummary[] {
    return this.stmts.allDocuments.all().map((d) => ({
      ...d,
      metadata: JSON.parse(d.metadata) as Record<string, unknown>,
      scope: d.scope === null ? null : (JSON.parse(d.scope) as Record<string, string>),
    }));
  }

  close(): void {
    this.db.close();
  }
}

function toMemory({ seq: _seq, scope, ...row }: MemoryRow): Memory {
  return {
    ...row,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    // Only where a scope path was sent, so exports of unscoped instances keep their shape.
    ...(scope === null ? {} : { scope: JSON.parse(scope) as Record<string, string> }),
  };
}
