import type { CreateMemoryRequest } from '../../src/client/types.js';
import type { MapResult } from '../../src/ingest/mapper.js';

/** The request of a record the mapper took; a failure throws, naming its code. */
export function ok(r: MapResult): CreateMemoryRequest {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}: ${r.error.message}`);
  return r.request;
}

/** The error of a record the mapper failed; a request throws. */
export function bad(r: MapResult) {
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r.request)}`);
  return r.error;
}
