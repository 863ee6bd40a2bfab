// Baseline "naive fixed concurrency": every batch queued through p-limit(8); a 429 (or any
// failure) is retried after a fixed 1 s, ignoring Retry-After. Prints a JSON summary.
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import { baselineArgs, postBatch, readBatches, sleep } from './common.js';

const { file, batchSize, concurrency, baseUrl, apiKey } = baselineArgs();
const { records, batches } = readBatches(file, batchSize);
const limit = pLimit(concurrency);
const started = performance.now();
let requests = 0;
let rateLimited = 0;
await Promise.all(
  batches.map((batch) =>
    limit(async () => {
      for (;;) {
        const res = await postBatch(baseUrl, apiKey, batch);
        requests += 1;
        if (res.status === 429) rateLimited += 1;
        else if (!res.ok) throw new Error(`batch answered ${res.status}`);
        else return;
        await sleep(1000);
      }
    }),
  ),
);
const elapsedMs = performance.now() - started;
console.log(
  JSON.stringify({ records, requests, rate_limited: rateLimited, elapsed_ms: elapsedMs }),
);
