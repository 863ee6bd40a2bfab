import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** What a checkpoint records of the bytes read so far: how many, and their sha256. */
export interface ConsumedBytes {
  bytes: number;
  sha256: string;
}

const CHUNK = 1024 * 1024;

/**
 * A running sha256 of an input's first bytes, fed with what the reader reads, so a checkpoint
 * can record exactly which bytes its settled records came from and a resume can check they are
 * still the same (an edit anywhere in them, even one that keeps the size, is refused). Hashing
 * bytes costs far less than parsing them: a resume that seeks past a prefix hashes it once.
 */
export class PrefixHash {
  private constructor(
    private readonly hash: Hash,
    private hashed: number,
  ) {}

  static empty(): PrefixHash {
    return new PrefixHash(createHash('sha256'), 0);
  }

  /**
   * The hash of the first `bytes` bytes of the file at `path`, read in large positional reads;
   * undefined when the file is shorter.
   */
  static async ofFile(path: string, bytes: number): Promise<PrefixHash | undefined> {
    const hash = createHash('sha256');
    const fh = await open(path, 'r');
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, bytes)));
      let at = 0;
      while (at < bytes) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, bytes - at), at);
        if (bytesRead === 0) return undefined;
        hash.update(buf.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await fh.close();
    }
    return new PrefixHash(hash, bytes);
  }

  /** Bytes hashed so far (from the start of the file). */
  get bytes(): number {
    return this.hashed;
  }

  /**
   * A chunk the reader read at file offset `at`: the part past what is hashed already is added
   * (a resume re-reads a little before where the hash stopped).
   */
  update(chunk: Buffer, at: number): void {
    const end = at + chunk.length;
    if (end <= this.hashed) return;
    if (at > this.hashed) throw new Error(`prefix hash: bytes ${this.hashed}…${at} were skipped`);
    this.hash.update(at === this.hashed ? chunk : chunk.subarray(this.hashed - at));
    this.hashed = end;
  }

  /** The hash of what was read so far (the running hash goes on). */
  snapshot(): ConsumedBytes {
    return { bytes: this.hashed, sha256: this.hash.copy().digest('hex') };
  }
}
