import { open, type FileHandle } from 'node:fs/promises';
import { WriteFailedError } from '../errors.js';
import { isOutputClosed, writeText } from '../output/json.js';
import type { ExportPage } from './paginator.js';

/**
 * JSON Lines output of an export: one memory per line, exactly the object the API returned.
 * A page is written as one chunk; the writer waits for the destination to take it before the
 * next page is fetched, so memory stays flat whatever the size of the export.
 */
export interface JsonLinesWriter {
  /** Writes the page's memories; resolves false when the reader went away (stop exporting). */
  writePage(page: Pick<ExportPage, 'memories' | 'source'>): Promise<boolean>;
  /** Bytes written so far, counted from the start of the file (including kept bytes on resume). */
  readonly bytes: number;
  /** Lines written so far (including kept lines on resume). */
  readonly lines: number;
  /** Makes what was written durable (files: fdatasync; streams: no-op). */
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The page as JSON Lines: each memory as the bytes the server sent for it when the page
 * carries them (numbers keep their exact digits; nothing is parsed and re-made), otherwise as
 * JSON.stringify writes the parsed object.
 */
function encodePage(page: Pick<ExportPage, 'memories' | 'source'>): Buffer {
  const { memories, source } = page;
  if (!source) {
    let out = '';
    for (const m of memories) out += `${JSON.stringify(m)}\n`;
    return Buffer.from(out);
  }
  const { body, spans } = source;
  let size = memories.length;
  for (let i = 0; i < spans.length; i += 2) size += spans[i + 1]! - spans[i]!;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < spans.length; i += 2) {
    at += body.copy(out, at, spans[i]!, spans[i + 1]!);
    out[at++] = 0x0a;
  }
  return out;
}

/**
 * Writes to a stream such as stdout, through output/json.ts: a full pipe makes us wait for
 * 'drain'; a closed pipe (EPIPE: `synap export | head -1`) is a normal end, not an error:
 * writePage returns false.
 */
export class StreamJsonLinesWriter implements JsonLinesWriter {
  bytes = 0;
  lines = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  async writePage(page: Pick<ExportPage, 'memories' | 'source'>): Promise<boolean> {
    const chunk = encodePage(page);
    if (!isOutputClosed(this.stream)) {
      this.bytes += chunk.length;
      this.lines += page.memories.length;
    }
    return writeText(chunk, this.stream);
  }

  async sync(): Promise<void> {}

  async close(): Promise<void> {}
}

/**
 * Writes to a file through one handle, appending at a known byte offset. On resume the file is
 * first cut back to the offset recorded in the state file (the end of the last checkpointed
 * page), so a page half-written before a crash is written again rather than duplicated.
 */
export class FileJsonLinesWriter implements JsonLinesWriter {
  private constructor(
    private readonly handle: FileHandle,
    public bytes: number,
    public lines: number,
    private readonly path: string,
  ) {}

  /** A write error as one line naming the file; the checkpoint lets the same command go on. */
  private failed(err: unknown): WriteFailedError {
    return new WriteFailedError(this.path, 'the export file', err, {
      resumable: true,
      hints: ['Make room, then run the same command again to continue where it stopped.'],
    });
  }

  /**
   * Opens `path`: a new (or emptied) file when `keep` is undefined, otherwise the existing file
   * truncated to `keep.bytes` (which hold `keep.lines` lines) and appended to.
   */
  static async open(
    path: string,
    keep?: { bytes: number; lines: number },
  ): Promise<FileJsonLinesWriter> {
    const handle = await open(path, keep ? 'r+' : 'w').catch((err: unknown) => {
      throw new WriteFailedError(path, 'the export file', err);
    });
    if (keep === undefined) return new FileJsonLinesWriter(handle, 0, 0, path);
    try {
      await handle.truncate(keep.bytes);
      return new FileJsonLinesWriter(handle, keep.bytes, keep.lines, path);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async writePage(page: Pick<ExportPage, 'memories' | 'source'>): Promise<boolean> {
    if (page.memories.length === 0) return true;
    const buf = encodePage(page);
    let done = 0;
    try {
      while (done < buf.length) {
        const { bytesWritten } = await this.handle.write(buf, done, buf.length - done, this.bytes);
        done += bytesWritten;
        this.bytes += bytesWritten;
      }
    } catch (err) {
      throw this.failed(err);
    }
    this.lines += page.memories.length;
    return true;
  }

  async sync(): Promise<void> {
    try {
      await this.handle.datasync();
    } catch (err) {
      throw this.failed(err);
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
