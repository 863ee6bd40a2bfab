import { writeFileSync } from 'node:fs';

/** Writes `n` chat-like JSONL records (distinct content, no document_id) and returns the path. */
export function writeChatFile(path: string, n: number, tag = 'r'): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        document: `User: ${tag} message ${i} about topic ${i % 97}\nAssistant: noted ${i}.`,
        user_id: `u_${i % 500}`,
        customer_id: `c_${i % 20}`,
        document_created_at: '2024-01-01T00:00:00Z',
        metadata: { n: i, tag },
      }),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Document ids stored more than once, and how many distinct documents are stored. */
export function storedOnce(
  docs: { document: string; document_id: string; times_received?: number }[],
): {
  distinct: number;
  duplicates: number;
} {
  const seen = new Map<string, number>();
  for (const d of docs) seen.set(d.document, (seen.get(d.document) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) if (n > 1) duplicates += n - 1;
  return { distinct: seen.size, duplicates };
}
