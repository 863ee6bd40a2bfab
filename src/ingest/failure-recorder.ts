import type { Clock } from '../clock.js';
import { redactSecrets } from '../redact.js';
import { RecordOriginal, type FailureLine, type FailuresSink } from './failures-file.js';
import { findFormat } from './formats/index.js';
import type { IngestReporter } from './reporter.js';
import type { FailureInfo } from './sender.js';
import type { StopController } from './stop-controller.js';
import type { Tally } from './tally.js';

/**
 * Records a failed record: its line in the failures file (none on a dry run), the count, the
 * reporter's event, and the stop rules (--fail-fast, --max-errors) that count failures.
 */
export class FailureRecorder {
  constructor(
    private readonly o: {
      failures: FailuresSink | undefined;
      tally: Tally;
      reporter: IngestReporter;
      stop: StopController;
      clock: Clock;
    },
  ) {}

  /**
   * `ordinal`: the record's place in read order (the failures file holds a line back until
   * every record before it is settled). The record is kept as it was read; the message (often
   * the server's words) is redacted like everything shown on the terminal.
   */
  record(
    item: { source: string; line: number; original: unknown },
    error: FailureInfo & { field?: string },
    correlationId: string | null,
    ordinal = 0,
  ): void {
    const { failures, tally, reporter, stop, clock } = this.o;
    const line: FailureLine = {
      source: item.source,
      line: item.line,
      record: item.original ?? null,
      error: {
        code: redactSecrets(error.code),
        status: error.status,
        message: redactSecrets(error.message),
        ...(error.field !== undefined ? { field: redactSecrets(error.field) } : {}),
      },
      correlation_id: correlationId,
      at: new Date(clock.now()).toISOString(),
    };
    if (failures) failures.append(line, ordinal);
    tally.failed += 1;
    // Text its format could not read, of a format whose failures are fixed in the source.
    const o = item.original;
    if (
      o instanceof RecordOriginal &&
      typeof o.record === 'string' &&
      findFormat(o.format)?.fixedInSource
    )
      tally.failedInSource += 1;
    reporter.onFailure?.(line);
    stop.noteFailure(tally.failed);
  }
}
