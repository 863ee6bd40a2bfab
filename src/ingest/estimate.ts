import { open } from 'node:fs/promises';

const SAMPLE_BYTES = 256 * 1024;

/**
 * A cheap estimate of the records in a line-based input (JSON Lines, CSV), from the lines in
 * its first 256 KiB scaled to its size: good enough for a progress bar and an ETA. Unknown for
 * gzip and JSON arrays (lines say nothing about records there).
 */
export async function estimateRecords(path: string, size: number): Promise<number | undefined> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.gz') || lower.endsWith('.json') || size === 0) return undefined;
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(SAMPLE_BYTES, size));
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    if (bytesRead === 0) return undefined;
    if (buf[0] === 0x1f && buf[1] === 0x8b) return undefined;
    let lines = 0;
    for (let i = 0; i < bytesRead; i++) if (buf[i] === 0x0a) lines += 1;
    if (bytesRead < size) return Math.max(1, Math.round((lines * size) / bytesRead));
    // Whole file seen: a last line without a newline is a record too.
    return buf[bytesRead - 1] === 0x0a ? lines : lines + 1;
  } finally {
    await handle.close();
  }
}
