// Measures the emulator's memory list at depth: memories/s of a sequential page loop, overall and
// per tenth of the pages, for each size given, side by side in one run.
// Usage: npm run build && node bench/emulator-list-depth.js [--sizes 100000,300000] [--page-size 100]
//        [--dist path/to/dist]   (another build, e.g. to compare with the OFFSET version)
//
// Each size gets a fresh database file seeded straight through the store (the HTTP path is not
// what is measured), then an emulator on it (in this process) and one keep-alive client paging
// from 1 to the end. O(page) listing shows as flat tenths and equal rates for both sizes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,300000' },
    'page-size': { type: 'string', default: '100' },
    dist: { type: 'string', default: new URL('../dist', import.meta.url).pathname },
  },
});
const sizes = values.sizes.split(',').map(Number);
const pageSize = Number(values['page-size']);
const dist = resolve(values.dist);
const { startEmulator } = await import(pathToFileURL(join(dist, 'emulator/index.js')).href);
const { EmulatorStore } = await import(pathToFileURL(join(dist, 'emulator/store.js')).href);
const { validateCreate } = await import(pathToFileURL(join(dist, 'emulator/validate.js')).href);

function seed(path, count) {
  const store = new EmulatorStore(path);
  const chunk = 2000;
  for (let start = 0; start < count; start += chunk) {
    const docs = [];
    for (let i = start; i < Math.min(count, start + chunk); i++) {
      const body = {
        document: `User: ticket ${i}: the printer on floor ${i % 9} is jammed again.`,
        document_id: `depth-${i}`,
        user_id: `u${i % 50}`,
        metadata: { i },
      };
      // Older builds' validateCreate takes a prefix and returns the document directly.
      docs.push(validateCreate(body));
    }
    store.insertDocuments(docs, Date.now(), 0);
  }
  store.close();
}

async function pageLoop(url, apiKey) {
  const tenths = [];
  let count = 0;
  let totalPages = Infinity;
  const started = performance.now();
  let tenthStart = started;
  let tenthCount = 0;
  let nextTenth = 1;
  for (let page = 1; page <= totalPages; page++) {
    const res = await fetch(`${url}/api/v1/memories?page=${page}&page_size=${pageSize}`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    if (res.status !== 200) throw new Error(`page ${page} answered ${res.status}`);
    const body = await res.json();
    totalPages = body.total_pages;
    count += body.data.length;
    tenthCount += body.data.length;
    if (page >= (totalPages * nextTenth) / 10 || page === totalPages) {
      const now = performance.now();
      tenths.push(Math.round((tenthCount / (now - tenthStart)) * 1000));
      tenthStart = now;
      tenthCount = 0;
      nextTenth++;
    }
  }
  const ms = performance.now() - started;
  return { count, ms: Math.round(ms), perS: Math.round((count / ms) * 1000), tenths };
}

const results = [];
for (const size of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'synap-list-depth-'));
  try {
    const db = join(dir, 'emulator.db');
    const seedStart = performance.now();
    seed(db, size);
    const seedMs = Math.round(performance.now() - seedStart);
    const emu = await startEmulator({ db, tier: 'unlimited', processingDelayMs: 0 });
    try {
      await pageLoop(emu.url, emu.apiKey); // warm-up: JIT, SQLite page cache
      const run = await pageLoop(emu.url, emu.apiKey);
      if (run.count !== size) throw new Error(`listed ${run.count} of ${size}`);
      results.push({
        memories: size,
        seed_ms: seedMs,
        list_ms: run.ms,
        memories_per_s: run.perS,
        per_tenth_of_pages: run.tenths,
      });
    } finally {
      await emu.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const [small, large] = results;
console.log(
  JSON.stringify(
    {
      dist,
      page_size: pageSize,
      results,
      ...(small && large
        ? {
            rate_ratio_large_over_small: Number(
              (large.memories_per_s / small.memories_per_s).toFixed(2),
            ),
            last_tenth_over_first_tenth_large: Number(
              (large.per_tenth_of_pages.at(-1) / large.per_tenth_of_pages[0]).toFixed(2),
            ),
          }
        : {}),
    },
    null,
    2,
  ),
);
