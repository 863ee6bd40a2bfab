import { optionDifferences, StateFile, type StateHeader } from '../state-file.js';
import type { TotalChange } from './paginator.js';

/**
 * The checkpoint of a resumable `export -o FILE`, kept in `FILE.synap-export-state.json`. It is
 * written only after the lines it counts are on disk, so `bytes` is always a prefix of FILE made
 * of complete pages; whatever follows it in FILE is from a page written after the last checkpoint.
 */
export interface ExportState extends StateHeader<'export'> {
  /** Options that decide which memories go into the file; a resume must use the same ones. */
  shape: ExportShape;
  /** The page to fetch next. */
  next_page: number;
  /** End of the last complete page in FILE: resume truncates FILE to this length. */
  bytes: number;
  /** Lines (= distinct memories) in FILE up to `bytes`. */
  lines: number;
  pages: number;
  duplicates: number;
  first_total: number | null;
  last_total: number | null;
  max_total: number | null;
  total_changes: TotalChange[];
  started_at: string;
  updated_at: string;
}

export interface ExportShape {
  base_url: string;
  page_size: number;
  user_id: string | null;
  customer_id: string | null;
}

/** The state file of an export to `output`. */
export function exportStateFile(output: string): StateFile<'export', ExportState> {
  return new StateFile<'export', ExportState>('export', output, {
    complete: (s) =>
      typeof s.next_page === 'number' &&
      typeof s.bytes === 'number' &&
      typeof s.lines === 'number' &&
      s.shape !== undefined,
    restartHint: 'Add --restart to start the export over (the output file is rewritten).',
  });
}

/** Names the options that differ, for the "started with different options" message. */
export function shapeDifferences(saved: ExportShape, now: ExportShape): string[] {
  return optionDifferences(saved, now, {
    base_url: 'base URL',
    page_size: '--page-size',
    user_id: '--user-id',
    customer_id: '--customer-id',
  });
}
