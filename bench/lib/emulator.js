// Starts the built emulator (dist/emulator) in a worker thread, so it never shares an event loop
// with the bench process, and talks to it by messages. See emulator-thread.js for what it records.
import { Worker } from 'node:worker_threads';

const EMULATOR_MODULE = new URL('../../dist/emulator/index.js', import.meta.url).href;
const THREAD = new URL('./emulator-thread.js', import.meta.url);

/**
 * @param {object} options EmulatorOptions for startEmulator (tier, rpm, burst, rateHeaders, ...)
 * @param {{ delayMs?: { min: number, max: number } }} [extra] injected latency per /api request
 * @returns {Promise<{ url: string, apiKey: string, stats(): Promise<object>, log(): Promise<object>,
 *   clearLog(): Promise<void>, documentCheck(): Promise<object>, close(): Promise<void> }>}
 */
export async function startEmulatorWorker(options = {}, extra = {}) {
  const worker = new Worker(THREAD, {
    workerData: {
      module: EMULATOR_MODULE,
      options: { processingDelayMs: 0, quiet: true, ...options },
      delayMs: extra.delayMs,
    },
  });
  const pending = new Map();
  let nextId = 1;
  const ready = new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m) => {
      if (m.ready) {
        worker.off('error', reject);
        resolve(m);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
  });
  worker.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  });
  const { url, apiKey } = await ready;
  const call = (cmd, arg) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, cmd, arg });
    });
  let closed;
  return {
    url,
    apiKey,
    stats: () => call('stats'),
    log: () => call('log'),
    clearLog: () => call('clearLog'),
    documentCheck: () => call('documentCheck'),
    setFaults: (faults) => call('setFaults', faults),
    close() {
      closed ??= call('close').then(() => worker.terminate());
      return closed;
    },
  };
}
