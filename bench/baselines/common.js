// Shared by the baseline senders: what a user writes by hand with fetch() when no bulk tool is
// at hand. Reads a JSONL file whole (small enough for the scenarios) into batches.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export function baselineArgs() {
  const { values } = parseArgs({
    options: {
      file: { type: 'string' },
      'batch-size': { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  const baseUrl = process.env.SYNAP_BASE_URL;
  const apiKey = process.env.SYNAP_API_KEY;
  if (!values.file || !baseUrl || !apiKey) {
    throw new Error('usage: SYNAP_BASE_URL=… SYNAP_API_KEY=… node <baseline>.js --file F.jsonl');
  }
  return {
    file: values.file,
    batchSize: Number(values['batch-size']),
    concurrency: Number(values.concurrency),
    baseUrl,
    apiKey,
  };
}

/** The file's records as create requests as the SDK builds them (every key, its defaults), in batches. */
export function readBatches(file, batchSize) {
  const docs = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const r = JSON.parse(l);
      return {
        document: r.document,
        document_type: r.document_type ?? 'ai-chat-conversation',
        document_id: r.document_id ?? null,
        document_created_at: r.document_created_at ?? null,
        user_id: r.user_id ?? null,
        customer_id: r.customer_id ?? null,
        mode: r.mode ?? 'long-range',
        metadata: r.metadata ?? {},
      };
    });
  const batches = [];
  for (let i = 0; i < docs.length; i += batchSize) batches.push(docs.slice(i, i + batchSize));
  return { records: docs.length, batches };
}

/** POST one batch; resolves with the response (body consumed). */
export async function postBatch(baseUrl, apiKey, documents) {
  const res = await fetch(`${baseUrl}/api/v1/memories/batch`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ documents, fail_fast: false }),
  });
  await res.arrayBuffer();
  return res;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
