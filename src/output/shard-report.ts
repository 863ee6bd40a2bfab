import type { ShardReport } from '../ingest/shard-report.js';
import { writeOut } from './messages.js';
import { renderKeyValue, renderTable } from './table.js';
import type { View } from './view.js';

const grouped = new Intl.NumberFormat('en-US');

/**
 * `synap ingest --shard-report` on stdout: the merged totals as `key: value` lines, then a
 * row per shard (a box on a terminal, tab-separated in a pipe).
 */
export function printShardReport(r: ShardReport, view: View): void {
  const tty = (process.stdout as NodeJS.WriteStream).isTTY === true;
  const num = (n: number) => (tty ? grouped.format(n) : String(n));
  const unit = r.shard_by === 'file' ? 'files' : 'shards';
  const pairs: [string, string][] = [
    ['status', r.status],
    ['shards', `${r.shards} (split by ${r.shard_by})`],
    [`${unit} completed`, `${num(r.completed)} of ${num(r.total)}`],
    ['accepted', num(r.accepted)],
    ['skipped (already ingested)', num(r.skipped)],
    ['failed', num(r.failed)],
    ['failures files', r.failures_files.length > 0 ? r.failures_files.join(', ') : '(none)'],
  ];
  const head = [
    'shard',
    'input',
    'status',
    'accepted',
    'skipped',
    'failed',
    'through record',
    'updated',
  ];
  const rows = r.rows.map((row) => [
    row.shard,
    row.input,
    row.status,
    num(row.accepted),
    num(row.skipped),
    num(row.failed),
    row.records_through === null ? '' : num(row.records_through),
    row.updated_at ?? '',
  ]);
  writeOut(
    `${renderKeyValue(pairs, { color: view.color })}\n\n${renderTable(head, rows, { color: view.color })}`,
  );
}
