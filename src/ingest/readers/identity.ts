import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';

export interface InputIdentity {
  /** The path as given. */
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 (hex) of the size and the first and last 64 KiB. */
  fingerprint: string;
}

const SPAN = 64 * 1024;

/**
 * What identifies an input for resume: a changed file must not be resumed from a watermark
 * that meant something else. Hashes the size and the first and last 64 KiB, so it is cheap
 * for any size and catches appends, truncation and edits at either end (an edit in the
 * middle of a large file that keeps its size is not caught; mtime is returned for that).
 */
export async function inputIdentity(path: string): Promise<InputIdentity> {
  const s = await stat(path);
  const hash = createHash('sha256').update(`${s.size}:`);
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(SPAN, s.size));
    await fh.read(head, 0, head.length, 0);
    hash.update(head);
    if (s.size > SPAN) {
      const tailLen = Math.min(SPAN, s.size - SPAN);
      const tail = Buffer.alloc(tailLen);
      await fh.read(tail, 0, tailLen, s.size - tailLen);
      hash.update(tail);
    }
  } finally {
    await fh.close();
  }
  return { path, size: s.size, mtimeMs: s.mtimeMs, fingerprint: hash.digest('hex') };
}
