import { open, rm, stat, type FileHandle } from 'node:fs/promises';

/** One line of the failures file (product.md §2); the mapper recognises it as ingest input. */
export interface FailureLine {
  source: string;
  line: number;
  /** The original record as read (for a parse error: the raw text, when there was any). */
  record: unknown;
  error: { code: string; status: number | null; message: string; field?: string };
  correlation_id: string | null;
  /** ISO-8601 time the failure was recorded. */
  at: string;
}

/** Where failed records go; `FailuresFile` on disk, or an in-memory fake in tests. */
export interface FailuresSink {
  readonly path: string;
  append(line: FailureLine): void;
  /** Makes every appended line durable (written and fsync'd). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Lines appended through this object. */
  readonly count: number;
}

/** `<input>.failures.jsonl`; stdin's failures go to `stdin.failures.jsonl` in the working directory. */
export function defaultFailuresPath(input: string): string {
  return input === '-' ? 'stdin.failures.jsonl' : `${input}.failures.jsonl`;
}

/**
 * Appends failure lines to a JSON Lines file. Lines are buffered and written + fsync'd on
 * flush() (the pipeline flushes before every checkpoint), so a record the state file counts as
 * settled is on disk before the checkpoint that says so. The file is created on the first
 * failure only: a clean run leaves none behind.
 */
export class FailuresFile implements FailuresSink {
  private handle: FileHandle | undefined;
  private buffer: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private appended = 0;

  constructor(readonly path: string) {}

  get count(): number {
    return this.appended;
  }

  /** Removes a failures file left by an earlier, finished run (a fresh run starts a fresh file). */
  static async discard(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  append(line: FailureLine): void {
    this.buffer.push(`${JSON.stringify(line)}\n`);
    this.appended += 1;
  }

  flush(): Promise<void> {
    // Serialised: two overlapping flushes must not interleave their writes.
    const next = this.chain.then(() => this.writeOut());
    this.chain = next.catch(() => {});
    return next;
  }

  private async writeOut(): Promise<void> {
    if (this.buffer.length === 0) return;
    const text = this.buffer.join('');
    this.buffer = [];
    if (!this.handle) {
      this.handle = await open(this.path, 'a+', 0o600);
      // A run killed mid-write may have left a partial last line: start ours on a fresh line.
      const size = (await stat(this.path)).size;
      if (size > 0 && !(await endsWithNewline(this.handle, size))) {
        await this.handle.write('\n');
      }
    }
    await this.handle.write(text);
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }
}

async function endsWithNewline(handle: FileHandle, size: number): Promise<boolean> {
  const buf = Buffer.alloc(1);
  await handle.read(buf, 0, 1, size - 1);
  return buf[0] === 0x0a;
}
