// Preloaded with `node --import` (through NODE_OPTIONS) by test/e2e/startup.test.ts: records
// every module the process loads, one file URL a line, in the file named by
// SYNAP_TEST_LOAD_LOG. ES modules, and CommonJS ones imported from them, are recorded by a
// loader hook as they load; at exit, every module in require()'s cache is added too, since on
// Node 20 a CommonJS module loaded with require() (createRequire) never passes the hooks.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const log = process.env.SYNAP_TEST_LOAD_LOG;
if (log) {
  register('./record-loads-hooks.mjs', import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () => {
    const urls = Object.keys(cache).map((path) => `${pathToFileURL(path).href}\n`);
    appendFileSync(log, urls.join(''));
  });
}
