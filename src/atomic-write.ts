import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` with `text` so that a crash at any moment leaves either the old file or the
 * new one, never half of each: temp file beside it, fsync, rename over, fsync the directory.
 * Resume state depends on this.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  // A name of our own, created here (never an existing file or a link planted there).
  const handle = await open(tmp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // A full disk or any other failure leaves the old file as it was and no temp file behind.
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Makes a rename in `dir` durable (fsync of the directory), where the filesystem allows it. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  }
}
