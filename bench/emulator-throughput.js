// Measures how many small create requests per second the emulator answers over loopback.
// Usage: npm run build && node bench/emulator-throughput.js [--requests 20000] [--concurrency 32]
// The emulator runs in a child process (`synap emulator`, unlimited tier, in-memory DB) so the
// load generator does not share its event loop.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    db: { type: 'string', default: ':memory:' },
  },
});
const total = Number(values.requests);
const concurrency = Number(values.concurrency);
const bin = fileURLToPath(new URL('../bin/synap.js', import.meta.url));

const child = spawn(
  process.execPath,
  [
    bin,
    'emulator',
    '--port',
    '0',
    '--db',
    values.db,
    '--tier',
    'unlimited',
    '--processing-delay',
    '0',
    '--json',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const { url, apiKey } = await new Promise((resolve, reject) => {
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    const line = out.split('\n').find((l) => l.startsWith('{'));
    if (line && out.includes('\n')) {
      const { result } = JSON.parse(line);
      resolve({ url: new URL(result.url), apiKey: result.api_key });
    }
  });
  child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
});

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
function create(i) {
  const body = JSON.stringify({
    document: `User: ticket ${i} says the printer is on fire\nAssistant: noted.`,
    document_type: 'ai-chat-conversation',
    document_id: `bench-${i}`,
    document_created_at: null,
    user_id: `u${i % 50}`,
    customer_id: null,
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
child.kill('SIGTERM');
console.log(
  JSON.stringify({
    requests: total,
    concurrency,
    seconds: Number(seconds.toFixed(2)),
    requests_per_second: Math.round(total / seconds),
    statuses,
  }),
);
