import { writeText } from './json.js';
import { info } from './messages.js';
import { renderTable, trimText } from './table.js';
import type { View } from './view.js';

/**
 * `memories list --output FORMAT`: memories as a table for people, or as data for scripts (one
 * JSON document, JSON Lines, CSV, TSV). Rows are written as pages arrive, so `--all` streams
 * through any number of memories in constant memory; a closed pipe (`| head`) ends it.
 */

export type ListFormat = 'table' | 'json' | 'jsonl' | 'csv' | 'tsv';

/** The columns of CSV and TSV, in order: the fields every memory has, then the optional ones. */
const ROW_FIELDS = [
  'memory_id',
  'memory_type',
  'content',
  'confidence',
  'category',
  'subcategory',
  'created_at',
  'updated_at',
  'source_document_id',
] as const;

type Row = Record<string, unknown>;

/** A page of memories for people: id, type, content cut to 200 characters, created. */
export function memoryTable(memories: Row[], view: View): string {
  const rows = memories.map((m) => [
    cellText(m.memory_id),
    cellText(m.memory_type),
    trimText(cellText(m.content), 200),
    cellText(m.created_at),
  ]);
  return renderTable(['id', 'type', 'content', 'created'], rows, {
    color: view.color,
    optional: ['type', 'created'],
  });
}

/** A field as text: nothing for null, JSON for objects and arrays. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; quotes doubled. */
function csvField(value: unknown): string {
  const s = cellText(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** TSV keeps one record a line: tab, line breaks and backslash written as \t, \n, \r, \\. */
function tsvField(value: unknown): string {
  return cellText(value).replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

export class MemoryRowsWriter {
  private rows = 0;
  private open = true;

  constructor(
    private readonly format: ListFormat,
    private readonly view: View,
    private readonly stream: NodeJS.WritableStream = process.stdout,
  ) {}

  /** False once the reader went away: stop fetching. */
  get accepting(): boolean {
    return this.open;
  }

  private async put(text: string): Promise<void> {
    if (this.open && text !== '') this.open = await writeText(text, this.stream);
  }

  /** Writes one page's memories (the header before the first row of CSV and TSV). */
  async write(memories: Row[]): Promise<void> {
    const first = this.rows === 0;
    this.rows += memories.length;
    switch (this.format) {
      case 'jsonl':
        return this.put(memories.map((m) => `${JSON.stringify(m)}\n`).join(''));
      case 'json':
        // One array over all pages: opened before the first memory, closed by end().
        return this.put(
          memories.map((m, i) => `${first && i === 0 ? '[' : ','}\n${JSON.stringify(m)}`).join(''),
        );
      case 'csv':
      case 'tsv': {
        const field = this.format === 'csv' ? csvField : tsvField;
        const sep = this.format === 'csv' ? ',' : '\t';
        const lines = memories.map((m) => ROW_FIELDS.map((f) => field(m[f])).join(sep));
        if (first) lines.unshift(ROW_FIELDS.join(sep));
        return this.put(lines.map((l) => `${l}\n`).join(''));
      }
      case 'table':
        if (memories.length > 0) return this.put(`${memoryTable(memories, this.view)}\n`);
    }
  }

  /** Closes what needs closing (the JSON array; CSV/TSV with no rows still get their header). */
  async end(): Promise<void> {
    if (this.format === 'json') await this.put(this.rows === 0 ? '[]\n' : '\n]\n');
    else if ((this.format === 'csv' || this.format === 'tsv') && this.rows === 0) {
      await this.put(`${ROW_FIELDS.join(this.format === 'csv' ? ',' : '\t')}\n`);
    } else if (this.format === 'table' && this.rows === 0) await this.put('No memories.\n');
  }
}

/** After `list --all`: how many memories, on stderr (stdout holds only the rows). */
export function printListAllSummary(
  s: { memories: number; pages: number; warnings: string[]; reader_closed?: true },
  view: View,
): void {
  for (const w of s.warnings) info(`warning: ${w}`, { quiet: view.quiet });
  if (s.reader_closed) {
    info(`stopped after ${s.memories} memories: the output was closed`, { quiet: view.quiet });
    return;
  }
  info(`${s.memories} memories, ${s.pages} page(s)`, { quiet: view.quiet });
}
