import type { ExportProgress, ExportReporter, ExportSummary } from '../export/run-export.js';
import { LineLog } from './notices.js';
import { createProgress } from './progress.js';
import { renderKeyValue } from './table.js';

/**
 * How an export looks on stderr: a spinner (TTY) or periodic lines (logs) with pages,
 * memories and memories/s; warnings above it; then a summary. Nothing here touches stdout.
 */

const fmt = new Intl.NumberFormat('en-US');

function rate(count: number, ms: number): number {
  return ms > 0 ? Math.round((count / ms) * 1000) : 0;
}

function progressText(p: ExportProgress): string {
  const total = p.total !== undefined ? ` of ${fmt.format(p.total)}` : '';
  return (
    `exporting: page ${fmt.format(p.page)}, ${fmt.format(p.written)}${total} memories, ` +
    `${fmt.format(rate(p.writtenThisRun, p.elapsedMs))}/s`
  );
}

/** A reporter that draws progress on stderr; call `done()` before printing the summary. */
export function createExportDisplay(opts: {
  quiet: boolean;
  color: boolean;
}): ExportReporter & { done(): void } {
  const progress = createProgress(opts);
  const early = new LineLog(process.stderr, { timestamps: process.stderr.isTTY !== true });
  let started = false;
  return {
    onStart(e) {
      const resumed =
        e.resumedFromPage !== undefined
          ? ` (resuming at page ${fmt.format(e.resumedFromPage)}; ${fmt.format(e.keptLines)} memories already in the file)`
          : '';
      progress.start(`exporting${e.output ? ` to ${e.output}` : ''}${resumed}`);
      started = true;
    },
    onPage(p) {
      progress.update(progressText(p));
    },
    onWarning(message) {
      // Warnings are shown even with --quiet.
      if (started && !opts.quiet) progress.log(`synap: warning: ${message}`);
      else early.write(`synap: warning: ${message}`);
    },
    done() {
      progress.stop();
    },
  };
}

/** Summary rows: numbers grouped for people on a terminal, plain for logs. */
function summaryPairs(s: ExportSummary, num: (n: number) => string): [string, string][] {
  const pairs: [string, string][] = [
    ['memories', num(s.memories)],
    ['pages', num(s.pages)],
    ['duplicates skipped', num(s.duplicates_skipped)],
    ['total reported', s.total_reported === null ? 'n/a' : num(s.total_reported)],
  ];
  if (s.total_changed && s.total_at_start !== null) {
    pairs.push(['total at start', num(s.total_at_start)]);
  }
  if (s.verify_passes > 0) {
    const passes = `${num(s.verify_passes)} pass${s.verify_passes === 1 ? '' : 'es'}`;
    pairs.push(['complete', s.partial ? `not shown (${passes})` : `verified (${passes})`]);
  }
  if (s.recovered_by_verify > 0) pairs.push(['found by verifying', num(s.recovered_by_verify)]);
  if (s.resumed_from_page !== null) {
    pairs.push(['resumed at page', num(s.resumed_from_page)]);
    pairs.push(['written this run', num(s.written_this_run)]);
  }
  pairs.push(['elapsed', `${(s.elapsed_ms / 1000).toFixed(1)} s`]);
  pairs.push(['memories/s', num(s.memories_per_s)]);
  pairs.push(['output', s.output ?? 'stdout']);
  return pairs;
}

/** The human summary on stderr: a table on a terminal, `key: value` lines in logs. */
export function printExportSummary(
  s: ExportSummary,
  opts: { quiet: boolean; color: boolean },
): void {
  if (opts.quiet) return;
  const stream = process.stderr;
  if (!s.complete) {
    stream.write(
      `export ended early: the reader closed the output after ${fmt.format(s.memories)} memories\n`,
    );
    return;
  }
  const num = stream.isTTY ? (n: number) => fmt.format(n) : (n: number) => String(n);
  stream.write(`${renderKeyValue(summaryPairs(s, num), { color: opts.color, stream })}\n`);
}
