import type { ListMemoriesResponse, Memory, MemoryStatusResponse } from '../client/types.js';
import type { DeleteReport } from '../memories/delete.js';
import { info, writeOut } from './messages.js';
import { cellText, memoryTable } from './memory-rows.js';
import { renderKeyValue, renderTable } from './table.js';
import type { View } from './view.js';

export { printListAllSummary } from './memory-rows.js';

/** How `synap memories …` results look to people: tables on stdout, notes on stderr. */

/** One page as a table, with where it is in the whole list and how to get the next page. */
export function printMemoryPage(page: ListMemoriesResponse, view: View): void {
  const data = Array.isArray(page.data) ? page.data : [];
  // With no total from the server, an empty first page is an empty list too.
  if (data.length === 0 && (page.total === 0 || (page.total === undefined && page.page <= 1))) {
    writeOut('No memories.');
    return;
  }
  writeOut(data.length === 0 ? `No memories on page ${page.page}.` : memoryTable(data, view));
  printPageFooter(page, view);
}

/** Where a page is in the whole list and how to get the next one, on stderr (stdout: rows only). */
export function printPageFooter(page: ListMemoriesResponse, view: View): void {
  const data = Array.isArray(page.data) ? page.data : [];
  // Without totals from the server a full page may have a next one; a short page is the last.
  const more =
    page.total_pages === undefined ? data.length >= page.page_size : page.page < page.total_pages;
  info(
    page.total_pages === undefined
      ? `page ${page.page} (the server gives no total)`
      : `page ${page.page} of ${page.total_pages}, ${page.total ?? '?'} memories total`,
    { quiet: view.quiet },
  );
  if (more) {
    const next = String(page.page + 1);
    const command =
      view.commandLine?.with({ set: { '--page': next } }) ?? `synap memories list --page ${next}`;
    info(`next page: ${command}`, { quiet: view.quiet });
  }
}

/** Every field of one memory, one per row. */
export function printMemory(memory: Memory, view: View): void {
  const pairs: [string, string][] = Object.entries(memory).map(([k, v]) => [k, cellText(v)]);
  writeOut(renderKeyValue(pairs, { color: view.color }));
}

/** Deleted ids on stdout; ids that could not be deleted on stderr with their reason. */
export function printDeleteReport(report: DeleteReport & { declined?: boolean }): void {
  if (report.declined) {
    info('Nothing deleted.');
    return;
  }
  for (const d of report.deleted) writeOut(`deleted ${d.memory_id}`);
  for (const f of report.failed) {
    info(
      `synap: could not delete ${f.memory_id}: ${f.error.message}` +
        (f.error.correlation_id ? ` (correlation id ${f.error.correlation_id})` : ''),
    );
  }
}

export function printStatuses(statuses: MemoryStatusResponse[], view: View): void {
  const rows = statuses.map((s) => [
    s.ingestion_id,
    s.status,
    s.memories_created ?? 0,
    (s.memory_ids ?? []).join('\n'),
    s.error_message ?? '',
  ]);
  writeOut(
    renderTable(['ingestion id', 'status', 'memories', 'memory ids', 'error'], rows, {
      color: view.color,
    }),
  );
}
