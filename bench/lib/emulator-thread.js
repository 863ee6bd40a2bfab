// Worker-thread body of bench/lib/emulator.js: runs the built emulator (dist/emulator) on its own
// event loop, and observes every metered request (the /api/v1 and /v1/credits routes: all but
// /health and /_emulator) at the HTTP layer (arrival, answer, status) so scenarios can measure
// rates, 429s and requests in flight from the server's side.
//
// The observation is bench-only: http.createServer is wrapped before the emulator is imported, so
// nothing in src/ knows about it. The wrapper can also hold each request for a random delay
// (uniform in [min, max] ms) before the emulator sees it, i.e. network/server latency.
import http from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

const { module: emulatorModule, options, delayMs } = workerData;

/** Epoch milliseconds with sub-millisecond precision (comparable across threads). */
const now = () => performance.timeOrigin + performance.now();

// Request log, one entry per metered request: arrival, start (handed to the emulator, after any
// injected delay), end (answer finished or socket closed), status (0 = closed without an answer)
// and kind (b batch, c create, l list, k credits, o other: whoami, status, get, ...).
const log = { arrived: [], started: [], ended: [], status: [], kind: [] };
let inFlight = 0;
let maxInFlight = 0;
// Connections that carried at least one metered request (keep-alive reuse shows as few).
const sockets = new WeakSet();
let connections = 0;

// Seeded random for the injected delay (mulberry32), so runs are repeatable.
let seed = (options.seed ?? 12345) >>> 0;
function random() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function kindOf(url) {
  if (url.startsWith('/api/v1/memories/batch')) return 'b';
  if (url.startsWith('/api/v1/memories/create')) return 'c';
  if (url.startsWith('/api/v1/memories?') || url === '/api/v1/memories') return 'l';
  if (url.startsWith('/v1/credits/')) return 'k';
  return 'o';
}

const originalCreateServer = http.createServer;
http.createServer = function createObservedServer(...args) {
  const at = args.findIndex((a) => typeof a === 'function');
  if (at < 0) return originalCreateServer.apply(this, args);
  const handler = args[at];
  args[at] = (req, res) => {
    if (!req.url.startsWith('/api/') && !req.url.startsWith('/v1/')) return handler(req, res);
    const i = log.arrived.length;
    log.arrived.push(now());
    if (!sockets.has(req.socket)) {
      sockets.add(req.socket);
      connections += 1;
    }
    log.started.push(0);
    log.ended.push(0);
    log.status.push(0);
    log.kind.push(kindOf(req.url));
    inFlight += 1;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight -= 1;
      log.ended[i] = now();
      log.status[i] = res.writableFinished ? res.statusCode : 0;
    };
    res.on('finish', finish);
    res.on('close', finish);
    if (delayMs) {
      // The body stays buffered in the paused request stream until the emulator reads it.
      setTimeout(
        () => {
          log.started[i] = now();
          handler(req, res);
        },
        delayMs.min + random() * (delayMs.max - delayMs.min),
      );
    } else {
      log.started[i] = log.arrived[i];
      handler(req, res);
    }
  };
  return originalCreateServer.apply(this, args);
};
// Make `import { createServer } from 'node:http'` in the emulator see the wrapper.
syncBuiltinESMExports();

const { startEmulator } = await import(emulatorModule);
const emu = await startEmulator(options);

function documentCheck() {
  const docs = emu.documents();
  const ids = new Set();
  const texts = new Set();
  let maxTimesReceived = 0;
  for (const d of docs) {
    ids.add(d.document_id);
    texts.add(d.document);
    if (d.times_received > maxTimesReceived) maxTimesReceived = d.times_received;
  }
  return { count: docs.length, distinctIds: ids.size, distinctTexts: texts.size, maxTimesReceived };
}

parentPort.on('message', async ({ id, cmd, arg }) => {
  try {
    let result;
    if (cmd === 'stats') result = emu.stats();
    else if (cmd === 'log') result = { ...log, inFlight, maxInFlight, connections };
    else if (cmd === 'clearLog') {
      for (const k of Object.keys(log)) log[k] = [];
      maxInFlight = inFlight;
      connections = 0;
      result = true;
    } else if (cmd === 'documentCheck') result = documentCheck();
    else if (cmd === 'setFaults') result = emu.setFaults(arg);
    else if (cmd === 'close') result = await emu.close();
    else throw new Error(`unknown command ${cmd}`);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err?.stack ?? err) });
  }
});
parentPort.postMessage({ ready: true, url: emu.url, apiKey: emu.apiKey });
