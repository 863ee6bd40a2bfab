// Measures `synap export` (the built CLI) against the emulator's own list throughput, in one run.
// Usage: npm run build && node bench/export-throughput.js [--memories 100000] [--page-size 100]
//
// 1. Starts the emulator (dist/emulator, unlimited tier, instant processing) in a worker thread
//    and seeds it through the batch endpoint.
// 2. Baseline: a plain sequential loop of fetch() over every page, parsing each JSON body.
// 3. `synap export -o FILE` and `synap export > /dev/null`, each under /usr/bin/time for the
//    peak RSS, and checks that the file holds every memory exactly once.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';

const { values } = parseArgs({
  options: {
    memories: { type: 'string', default: '100000' },
    'page-size': { type: 'string', default: '100' },
  },
});
const total = Number(values.memories);
const pageSize = Number(values['page-size']);
const emulatorModule = new URL('../dist/emulator/index.js', import.meta.url).href;
const bin = new URL('../bin/synap.js', import.meta.url).pathname;

const worker = new Worker(
  `
  const { parentPort, workerData } = require('node:worker_threads');
  import(workerData.module).then(async ({ startEmulator }) => {
    const emu = await startEmulator({ tier: 'unlimited', processingDelayMs: 0 });
    parentPort.postMessage({ url: emu.url, apiKey: emu.apiKey });
    parentPort.on('message', async () => {
      await emu.close();
      parentPort.postMessage({ closed: true });
    });
  });
  `,
  { eval: true, workerData: { module: emulatorModule } },
);
const { url, apiKey } = await new Promise((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});

// ---- seed -------------------------------------------------------------------------------------
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
function post(path, payload) {
  const body = JSON.stringify(payload);
  const u = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        path: u.pathname,
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
const seedStart = Date.now();
let nextBatch = 0;
async function seeder() {
  for (;;) {
    const start = nextBatch;
    nextBatch += 100;
    if (start >= total) return;
    const documents = [];
    for (let i = start; i < Math.min(total, start + 100); i++) {
      documents.push({
        document: `User: ticket ${i}: the printer on floor ${i % 9} is jammed again.\nAssistant: noted, a technician is on the way.`,
        document_type: 'ai-chat-conversation',
        document_id: `bench-${i}`,
        document_created_at: '2024-05-01T10:00:00Z',
        user_id: `u${i % 50}`,
        customer_id: 'acme',
        mode: 'fast',
        metadata: { i, source: 'bench' },
      });
    }
    const status = await post('/api/v1/memories/batch', { documents, fail_fast: false });
    if (status !== 200) throw new Error(`seed batch answered ${status}`);
  }
}
await Promise.all([seeder(), seeder(), seeder(), seeder()]);
agent.destroy();
const seedMs = Date.now() - seedStart;

// ---- baseline: the emulator's own list throughput -----------------------------------------------
async function plainLoop() {
  const started = process.hrtime.bigint();
  let count = 0;
  for (let page = 1; ; page++) {
    const res = await fetch(`${url}/api/v1/memories?page=${page}&page_size=${pageSize}`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    if (res.status !== 200) throw new Error(`list answered ${res.status}`);
    const body = await res.json();
    count += body.data.length;
    if (page >= body.total_pages) break;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { count, ms, perS: Math.round((count / ms) * 1000) };
}

// ---- the CLI ----------------------------------------------------------------------------------
function runExport(args, stdout) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const env = { ...process.env, SYNAP_BASE_URL: url, SYNAP_API_KEY: apiKey };
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'maxrss_kb=%M', process.execPath, bin, '--quiet', 'export', ...args],
      { env, stdio: ['ignore', stdout, 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const rss = /maxrss_kb=(\d+)/.exec(stderr);
      if (code !== 0) reject(new Error(`export exited ${code}: ${stderr}`));
      else
        resolve({
          ms,
          perS: Math.round((total / ms) * 1000),
          peakRssMb: rss ? Number(rss[1]) / 1024 : NaN,
        });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'synap-bench-export-'));
const file = join(dir, 'backup.jsonl');
try {
  await plainLoop(); // warm-up: JIT, SQLite page cache
  const baseline = await plainLoop();
  const toFile = await runExport(['--page-size', String(pageSize), '-o', file], 'ignore');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  const ids = new Set(lines.map((l) => JSON.parse(l).memory_id));
  if (lines.length !== total || ids.size !== total) {
    throw new Error(`export wrote ${lines.length} lines, ${ids.size} distinct (expected ${total})`);
  }
  const toStdout = await runExport(['--page-size', String(pageSize)], 'ignore');
  const baseline2 = await plainLoop();

  const result = {
    memories: total,
    page_size: pageSize,
    seed_ms: seedMs,
    emulator_list_loop_per_s: [baseline.perS, baseline2.perS],
    export_to_file: {
      per_s: toFile.perS,
      wall_ms: Math.round(toFile.ms),
      peak_rss_mb: Math.round(toFile.peakRssMb),
    },
    export_to_stdout: {
      per_s: toStdout.perS,
      wall_ms: Math.round(toStdout.ms),
      peak_rss_mb: Math.round(toStdout.peakRssMb),
    },
    export_vs_loop: Number((toFile.perS / ((baseline.perS + baseline2.perS) / 2)).toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
  worker.postMessage('close');
  await new Promise((r) => worker.once('message', r));
  await worker.terminate();
}
