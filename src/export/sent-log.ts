import {
  closeSync,
  existsSync,
  ftruncateSync,
  fstatSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { RecentIds } from './recent-ids.js';
import { idHash, WrittenIds } from './written-ids.js';

/**
 * What a migration has handed to the ingest, kept beside its state file so a later run knows
 * it too: for each memory its line (position in the listing, see migrate-records.ts) and the
 * hash of its memory_id, and for each document sent under a source document_id, the hash of
 * that id (stored with the line negated). 16 bytes an entry, appended before the records are
 * handed on. A resume keeps the entries of lines its state counts as settled and cuts off the
 * rest, which it reads again.
 */
const ENTRY = 16;

export const docKey = (documentId: string): number => idHash(`\u0000doc:${documentId}`);

export class SentLog {
  /** Every memory and document sent (for the verification passes). */
  readonly written = new WrittenIds();
  /** The memory_ids sent most recently (repeats of offset paging), as hashes. */
  readonly recentMemories = new RecentIds();
  /** The source document_ids used most recently, as hashes. */
  readonly recentDocuments = new RecentIds();
  private pending: number[] = [];
  /** Where the next entries go in the file. */
  private end = 0;

  private constructor(private readonly fd: number | undefined) {}

  /** A log kept only in memory (a dry run). */
  static inMemory(): SentLog {
    return new SentLog(undefined);
  }

  /**
   * Opens (creating) the log at `path`, keeping the entries of lines up to `settledLine`
   * (none for a fresh run, settledLine 0).
   */
  static open(path: string, settledLine: number): SentLog {
    const fd = openSync(path, existsSync(path) ? 'r+' : 'w+', 0o600);
    const log = new SentLog(fd);
    const size = fstatSync(fd).size - (fstatSync(fd).size % ENTRY);
    const buf = Buffer.alloc(64 * 1024 * ENTRY);
    let kept = 0;
    read: for (let at = 0, n = 1; at < size && n > 0; at += n) {
      n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
      for (let i = 0; i + ENTRY <= n; i += ENTRY, kept += ENTRY) {
        const line = buf.readDoubleLE(i);
        if (Math.abs(line) > settledLine) break read;
        log.remember(line, buf.readDoubleLE(i + 8));
      }
    }
    ftruncateSync(fd, kept);
    log.end = kept;
    return log;
  }

  private remember(line: number, hash: number): void {
    this.written.addHash(hash);
    if (line > 0) this.recentMemories.addNew(String(hash));
    else this.recentDocuments.addNew(String(hash));
  }

  /** A memory on `line` is about to be sent. */
  memory(line: number, memoryId: string): void {
    const h = idHash(memoryId);
    this.remember(line, h);
    this.pending.push(line, h);
  }

  /** A document is about to be sent under the source's `documentId` (first on `line`). */
  document(line: number, documentId: string): void {
    const h = docKey(documentId);
    this.remember(-line, h);
    this.pending.push(-line, h);
  }

  /** Writes what was noted since the last flush (before the records are handed on). */
  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) {
      this.pending = [];
      return;
    }
    const buf = Buffer.allocUnsafe(this.pending.length * 8);
    for (let i = 0; i < this.pending.length; i++) buf.writeDoubleLE(this.pending[i]!, i * 8);
    let done = 0;
    while (done < buf.length) {
      done += writeSync(this.fd, buf, done, buf.length - done, this.end + done);
    }
    this.end += buf.length;
    this.pending = [];
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }

  static remove(path: string): void {
    rmSync(path, { force: true });
  }
}
