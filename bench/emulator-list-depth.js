// Measures the emulator's memory list at depth: memories/s of a sequential page loop, overall and
// per tenth of the pages, for each size given, side by side in one run (the loops interleaved, so
// a shared machine's load falls on every size alike; each rate counts request time only).
// Usage: npm run build && node bench/emulator-list-depth.js [--sizes 100000,300000] [--page-size 100]
//        [--dist path/to/dist]   (another build, e.g. to compare with the OFFSET version)
//
// Each size gets a fresh database file seeded straight through the store (the HTTP path is not
// what is measured) and an emulator on it (in this process); one keep-alive client pages each
// from 1 to the end. O(page) listing shows as flat tenths and equal rates for every size.
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

/** One page over keep-alive fetch; returns its rows and the time it took. */
async function fetchPage(emu, page) {
  const started = performance.now();
  const res = await fetch(`${emu.url}/api/v1/memories?page=${page}&page_size=${pageSize}`, {
    headers: { Authorization: `Bearer ${emu.apiKey}` },
  });
  if (res.status !== 200) throw new Error(`page ${page} answered ${res.status}`);
  const body = await res.json();
  return { rows: body.data.length, ms: performance.now() - started };
}

/**
 * Pages through every size at once, interleaved so that each is at the same fraction of its
 * depth at the same moment: the load of a shared machine falls on all sizes alike.
 */
async function interleavedLoops(emulators) {
  const runs = emulators.map(({ size, emu }) => ({
    size,
    emu,
    pages: Math.ceil(size / pageSize),
    next: 1,
    rows: 0,
    ms: 0,
    tenths: Array.from({ length: 10 }, () => ({ rows: 0, ms: 0 })),
  }));
  const steps = Math.max(...runs.map((r) => r.pages));
  for (let step = 1; step <= steps; step++) {
    for (const run of runs) {
      while (run.next <= Math.ceil((step * run.pages) / steps)) {
        const { rows, ms } = await fetchPage(run.emu, run.next);
        const tenth = run.tenths[Math.min(9, Math.floor(((run.next - 1) * 10) / run.pages))];
        tenth.rows += rows;
        tenth.ms += ms;
        run.rows += rows;
        run.ms += ms;
        run.next++;
      }
    }
  }
  return runs.map((r) => {
    if (r.rows !== r.size) throw new Error(`listed ${r.rows} of ${r.size}`);
    return {
      memories: r.size,
      list_ms: Math.round(r.ms),
      memories_per_s: Math.round((r.rows / r.ms) * 1000),
      per_tenth_of_pages: r.tenths.map((t) => Math.round((t.rows / t.ms) * 1000)),
    };
  });
}

const dirs = [];
const emulators = [];
try {
  for (const size of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'synap-list-depth-'));
    dirs.push(dir);
    const db = join(dir, 'emulator.db');
    seed(db, size);
    emulators.push({
      size,
      emu: await startEmulator({ db, tier: 'unlimited', processingDelayMs: 0 }),
    });
  }
  await interleavedLoops(emulators); // warm-up: JIT, SQLite page cache
  const results = await interleavedLoops(emulators);
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
} finally {
  await Promise.all(emulators.map(({ emu }) => emu.close()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
