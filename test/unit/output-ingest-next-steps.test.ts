import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import type { IngestSummary } from '../../src/ingest/summary.js';
import { PassThrough } from 'node:stream';
import { nextSteps, printIngestSummary } from '../../src/output/ingest-summary.js';

function summary(over: Partial<IngestSummary>): IngestSummary {
  return {
    status: 'partial',
    exit_code: ExitCode.PARTIAL,
    stop_reason: null,
    dry_run: false,
    inputs: ['data.jsonl'],
    records_read: 3,
    resumed_past: 0,
    sent: 3,
    accepted: 0,
    skipped: 0,
    failed: 3,
    earlier_runs: { accepted: 0, skipped: 0, failed: 0, unchanged: 0 },
    unchanged: 0,
    updated: 0,
    requests: 1,
    rate_limited: 0,
    retries: 0,
    elapsed_s: 0.1,
    records_per_s: 30,
    failures_files: ['data.jsonl.failures.jsonl'],
    state_files: [],
    ...over,
  };
}

const plainly = /every record failed and nothing was stored/;

describe('nextSteps', () => {
  it('says plainly when every record failed', () => {
    const steps = nextSteps(summary({}));
    expect(steps[0]).toMatch(plainly);
    expect(steps[0]).toContain('data.jsonl.failures.jsonl');
    expect(steps.join('\n')).toMatch(/3 record\(s\) failed/);
  });

  it('does not when something was stored, now or in an earlier part of the run', () => {
    expect(nextSteps(summary({ accepted: 1, failed: 2 })).join('\n')).not.toMatch(plainly);
    expect(nextSteps(summary({ skipped: 1, failed: 2 })).join('\n')).not.toMatch(plainly);
    // Held by the instance already (the ledger's unchanged): stored, so not "nothing".
    expect(nextSteps(summary({ unchanged: 3, failed: 1 })).join('\n')).not.toMatch(plainly);
    const resumed = summary({ earlier_runs: { accepted: 5, skipped: 0, failed: 0, unchanged: 0 } });
    expect(nextSteps(resumed).join('\n')).not.toMatch(plainly);
  });

  it('records their source format could not read are fixed in the source, not sent from the failures file', () => {
    const all = nextSteps(summary({ inputs: ['box.mbox'], failed: 2, failed_in_source: 2 }));
    expect(all.join('\n')).not.toContain('Fix them and run');
    expect(all.at(-1)).toBe(
      '2 record(s) failed; see data.jsonl.failures.jsonl. They could not be read from their source: fix them there (the failures file says where) and run the same command again (what is stored is not sent again).',
    );
    // Some of each: the failures file for the others, the source for these.
    const mixed = nextSteps(summary({ failed: 3, failed_in_source: 1 }));
    expect(mixed.slice(-2)).toEqual([
      '3 record(s) failed; see data.jsonl.failures.jsonl. Fix them and run: synap ingest data.jsonl.failures.jsonl',
      '1 of them could not be read from their source: that command cannot send them; fix them there (the failures file says where) and run the same command again (what is stored is not sent again).',
    ]);
  });

  it('does not for a dry run or an interrupted one', () => {
    expect(nextSteps(summary({ dry_run: true })).join('\n')).not.toMatch(plainly);
    expect(nextSteps(summary({ status: 'interrupted' })).join('\n')).not.toMatch(plainly);
  });

  it('a stopped run names the records it read but did not settle (sent again by a re-run), and no failures file when there is none', () => {
    const steps = nextSteps(
      summary({
        status: 'stopped',
        exit_code: ExitCode.STOPPED,
        stop_reason: 'retry-budget',
        records_read: 45,
        sent: 0,
        failed: 0,
        failures_files: [],
      }),
    ).join('\n');
    expect(steps).toMatch(/45 record\(s\) were not stored yet and are in no failures file/);
    expect(steps).not.toMatch(/failures file\)|see the failures file/);
  });

  it('a stopped run does not count the records the instance holds unchanged as not stored', () => {
    const steps = nextSteps(
      summary({
        status: 'stopped',
        exit_code: ExitCode.STOPPED,
        stop_reason: 'max-duration',
        records_read: 329,
        unchanged: 219,
        sent: 30,
        accepted: 29,
        skipped: 1,
        failed: 0,
        // 10 of the unchanged were settled by an earlier run of the input, not read by this one.
        earlier_runs: { accepted: 0, skipped: 0, failed: 0, unchanged: 10 },
        failures_files: [],
      }),
    ).join('\n');
    expect(steps).toMatch(/\b90 record\(s\) were not stored yet/);
  });

  it('every record failed but no failures file was written: no pointer to one', () => {
    const steps = nextSteps(summary({ failures_files: [] })).join('\n');
    expect(steps).not.toMatch(/the failures file/);
  });

  it('--show with every record unchanged says why nothing is shown', () => {
    const out = (s: IngestSummary) => {
      const err = new PassThrough();
      const data = new PassThrough();
      printIngestSummary(s, { color: false, stream: err, data });
      return String(err.read() ?? '') + String(data.read() ?? '');
    };
    const held = summary({
      dry_run: true,
      status: 'completed',
      exit_code: ExitCode.OK,
      failed: 0,
      sent: 0,
      unchanged: 3,
      show: 2,
      samples: [],
      failures_files: [],
    });
    expect(out(held)).toContain(
      'nothing to show: the 3 records read are held by the instance as they are (unchanged); --resend shows them',
    );
  });
});
