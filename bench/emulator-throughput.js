// Measures how many small create requests per second the emulator answers over loopback.
// Usage: npm run build && node bench/emulator-throughput.js [--requests 20000] [--concurrency 32] [--db PATH]
// The emulator (dist/emulator, unlimited tier, instant processing) runs in a worker thread so the
// load generator does not share its event loop.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    db: { type: 'string', default: ':memory:' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const emulatorModule = new URL('../dist/emulator/index.js', import.meta.url).href;

const worker = new Worker(
  `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.module).then(async ({ startEmulator }) => {
    const emu = await startEmulator({ db: workerData.db, tier: 'unlimited', processingDelayMs: 0 });
    parentPort.postMessage({ url: emu.url, apiKey: emu.apiKey });
    parentPort.on('message', async () => {
      const stats = emu.stats();
      await emu.close();
      parentPort.postMessage({ stats });
    });
  });
  `,
  { eval: true, workerData: { module: emulatorModule, db: values.db } },
);
const { url, apiKey } = await new Promise((resolve, reject) => {
  worker.once('message', (m) => resolve({ url: new URL(m.url), apiKey: m.apiKey }));
  worker.once('error', reject);
});

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function create(i) {
  const body = JSON.stringify({
    document: `User: ticket ${i} says the printer is on fire\nAssistant: noted.`,
    document_type: 'ai-chat-conversation',
    document_id: `bench-${i}`,
    document_created_at: null,
    user_id: `u${i % 50}`,
    customer_id: 'acme',
    mode: 'fast',
    metadata: { i },
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/api/v1/memories/create',
        method: 'POST',
        headers: {
          Authorization: `Bearer ${apiKey}`,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// Warm-up so JIT and connections are ready, then the measured run.
for (let i = 0; i < 500; i++) await create(-1 - i);
let next = 0;
const statuses = {};
const started = process.hrtime.bigint();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const status = await create(next++);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }),
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
agent.destroy();
worker.postMessage('stop');
const { stats } = await new Promise((resolve) => worker.once('message', resolve));
await worker.terminate();
console.log(
  JSON.stringify({
    requests: total,
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    requests_per_second: Math.round(total / seconds),
    statuses,
    documents_stored: stats.documents_stored,
  }),
);
