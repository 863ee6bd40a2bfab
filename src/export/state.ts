import { writeFileAtomic } from '../atomic-write.js';
import { readFile, rm } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import type { TotalChange } from './paginator.js';

/**
 * The checkpoint of a resumable `export -o FILE`, kept in `FILE.synap-state.json`. It is written
 * only after the lines it counts are on disk, so `bytes` is always a prefix of FILE made of
 * complete pages; whatever follows it in FILE is from a page written after the last checkpoint.
 */
export interface ExportState {
  version: 1;
  kind: 'synap-export';
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

export function statePathFor(outputPath: string): string {
  return `${outputPath}.synap-state.json`;
}

/** Reads a state file; undefined when there is none. A damaged one is a usage error. */
export async function readExportState(path: string): Promise<ExportState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    state = undefined;
  }
  const s = state as Partial<ExportState> | undefined;
  if (
    !s ||
    s.kind !== 'synap-export' ||
    s.version !== 1 ||
    typeof s.next_page !== 'number' ||
    typeof s.bytes !== 'number' ||
    typeof s.lines !== 'number' ||
    !s.shape
  ) {
    throw new UsageError(`the export state file ${path} is not readable`, {
      hints: ['Add --restart to start the export over (the output file is rewritten).'],
    });
  }
  return s as ExportState;
}

/** Saves the state atomically (see writeFileAtomic). */
export async function writeExportState(path: string, state: ExportState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}

export async function removeExportState(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** Names the options that differ, for the "started with different options" message. */
export function shapeDifferences(a: ExportShape, b: ExportShape): string[] {
  const out: string[] = [];
  const show = (v: unknown) => (v === null ? '(none)' : String(v));
  if (a.base_url !== b.base_url) out.push(`base URL ${show(a.base_url)} → ${show(b.base_url)}`);
  if (a.page_size !== b.page_size)
    out.push(`--page-size ${show(a.page_size)} → ${show(b.page_size)}`);
  if (a.user_id !== b.user_id) out.push(`--user-id ${show(a.user_id)} → ${show(b.user_id)}`);
  if (a.customer_id !== b.customer_id)
    out.push(`--customer-id ${show(a.customer_id)} → ${show(b.customer_id)}`);
  return out;
}
