// Baseline "the loop the docs suggest": batches sent one after another; on a 429, sleep for its
// Retry-After (or 1 s when absent) and send the same batch again. Prints a JSON summary.
import { performance } from 'node:perf_hooks';
import { baselineArgs, postBatch, readBatches, sleep } from './common.js';

const { file, batchSize, baseUrl, apiKey } = baselineArgs();
const { records, batches } = readBatches(file, batchSize);
const started = performance.now();
let requests = 0;
let rateLimited = 0;
for (const batch of batches) {
  for (;;) {
    const res = await postBatch(baseUrl, apiKey, batch);
    requests += 1;
    if (res.status === 429) {
      rateLimited += 1;
      const seconds = Number(res.headers.get('retry-after'));
      await sleep(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000);
      continue;
    }
    if (!res.ok) throw new Error(`batch answered ${res.status}`);
    break;
  }
}
const elapsedMs = performance.now() - started;
console.log(
  JSON.stringify({ records, requests, rate_limited: rateLimited, elapsed_ms: elapsedMs }),
);
