/** gzip magic bytes (RFC 1952): 1f 8b. */
export function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** A zip archive, by its name: its entries are the inputs (src/ingest/readers/zip.ts). */
export function isZipName(name: string): boolean {
  return name.toLowerCase().endsWith('.zip');
}
