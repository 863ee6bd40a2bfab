// The loader hook of record-loads.mjs (it runs on the loader's own thread): every module the
// ES module loader loads, before it is evaluated.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  appendFileSync(process.env.SYNAP_TEST_LOAD_LOG, `${url}\n`);
  return next(url, context);
}
