import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FailureLine } from '../../src/ingest/failures-file.js';
import { createIngestDisplay } from '../../src/output/ingest-progress.js';

/** What the display prints after 25 failures of an input whose failures file is `file`. */
function afterFailures(file: string | null): string {
  const stream = new PassThrough();
  let out = '';
  stream.on('data', (c: Buffer) => (out += c.toString()));
  const display = createIngestDisplay({ quiet: false, color: false, stream, isTTY: false });
  display.onInputStart?.({
    source: 'bad.jsonl',
    index: 0,
    count: 1,
    stateFile: null,
    failuresFile: file,
    resumedFrom: null,
    estimatedRecords: 25,
  });
  for (let line = 1; line <= 25; line++) {
    const f: FailureLine = {
      source: 'bad.jsonl',
      line,
      record: 'x',
      error: { code: 'INVALID_JSON', status: null, message: 'not JSON' },
      correlation_id: null,
      at: '2026-01-01T00:00:00.000Z',
    };
    display.onFailure?.(f);
  }
  display.done();
  return out;
}

describe('the failures beyond the first 20', () => {
  it('point to the failures file a run writes, by name', () => {
    const out = afterFailures('bad.jsonl.failures.jsonl');
    expect(out).toContain(
      'further failures are counted, not printed; see bad.jsonl.failures.jsonl',
    );
  });

  it('in a dry run (no failures file) say that none is written, never "see the failures file"', () => {
    const out = afterFailures(null);
    expect(out).not.toContain('see the failures file');
    expect(out).toContain('a dry run writes no failures file');
  });
});
