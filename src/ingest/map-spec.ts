import { readScope } from '../client/create-body.js';
import type { ScopePath } from '../client/types.js';
import { UsageError } from '../errors.js';
import { API_FIELD_SET, API_FIELDS } from './validate.js';

/**
 * The `--map` and `--scope` values, checked while the command line is read: a module of its own
 * so that declaring the ingest options does not load the mapper and the readers.
 */

/** Parses repeated `--map api_field=source_field` values. */
export function parseMapSpecs(specs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const api = spec.slice(0, eq).trim();
    const src = spec.slice(eq + 1).trim();
    if (eq <= 0 || src === '') {
      throw new UsageError(
        `--map "${spec}": expected api_field=source_field, e.g. --map document=body`,
      );
    }
    if (!API_FIELD_SET.has(api)) {
      throw new UsageError(
        `--map "${spec}": "${api}" is not an API field (${API_FIELDS.join(', ')})`,
      );
    }
    map[api] = src;
  }
  return map;
}

/** `--scope customer=acme,team=payments,user=dana` → the scope path, top level first. */
export function parseScopeSpec(spec: string): ScopePath {
  const read = readScope(spec);
  if ('error' in read) throw new UsageError(`--scope: ${read.error}`);
  if (read.scope === null)
    throw new UsageError('--scope: give level=name pairs, e.g. customer=acme,team=payments');
  return read.scope;
}
