#!/usr/bin/env node
// Input-side cost of `synap ingest --dry-run`: read + map + validate + derive ids for N
// generated JSON Lines records (no sending). Prints CPU µs/record and peak RSS.
//   npm run build && node bench/ingest-parse.js 1000000 [--keep-ids]
// Half the records carry a document_id, half get a sha256 id derived from the request.
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { readRecordBatches } from '../dist/ingest/readers/index.js';
import { createMapper } from '../dist/ingest/mapper.js';

const n = Number(process.argv[2] ?? 1_000_000);
const file = `/tmp/synap-bench-${n}.jsonl`;

if (!existsSync(file)) {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const rec = {
      ...(i % 2 === 0 ? { document_id: `doc-${i}` } : {}),
      document: `User: message number ${i} about invoices and exports.\nAssistant: noted, ${i}.`,
      document_type: 'ai-chat-conversation',
      document_created_at: '2024-03-15T10:30:00Z',
      user_id: `u_${i % 1000}`,
      customer_id: i % 3 === 0 ? 'acme' : undefined,
      metadata: { channel: 'web', turn: i % 7 },
      ticket: i % 5 === 0 ? `T-${i}` : undefined,
    };
    if (!out.write(`${JSON.stringify(rec)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const map = createMapper({ idFrom: 'hash', defaults: { mode: 'long-range' } });
const t0 = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let ok = 0;
let bad = 0;
for await (const batch of readRecordBatches(file)) {
  for (const rec of batch) {
    const r = map(rec);
    if (r.ok) ok += 1;
    else bad += 1;
  }
}
const cpu = process.cpuUsage(cpu0);
const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
const cpuUs = cpu.user + cpu.system;
const peakMb = process.resourceUsage().maxRSS / 1024;
console.log(
  JSON.stringify({
    records: n,
    ok,
    bad,
    cpu_us_per_record: +(cpuUs / n).toFixed(2),
    wall_ms: Math.round(wallMs),
    records_per_s: Math.round(n / (wallMs / 1000)),
    peak_rss_mb: Math.round(peakMb),
  }),
);
