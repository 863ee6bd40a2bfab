import Table from 'cli-table3';

export interface TableOptions {
  /** Colours (bold headers) only when true; --no-color / NO_COLOR / non-TTY turn them off. */
  color: boolean;
  /** Column widths; cells longer than these are wrapped or truncated by cli-table3. */
  colWidths?: (number | null)[];
  wordWrap?: boolean;
}

function style(color: boolean): { head: string[]; border: string[] } {
  return color ? { head: ['bold'], border: [] } : { head: [], border: [] };
}

/** Renders rows under a header as a boxed table (no trailing newline). */
export function renderTable(
  head: string[],
  rows: (string | number | null | undefined)[][],
  opts: TableOptions,
): string {
  const table = new Table({
    head,
    style: style(opts.color),
    ...(opts.colWidths ? { colWidths: opts.colWidths } : {}),
    ...(opts.wordWrap ? { wordWrap: true } : {}),
  });
  for (const row of rows)
    table.push(row.map((c) => (c === null || c === undefined ? '' : String(c))));
  return table.toString();
}

/** Renders `label: value` pairs as a two-column table without a header. */
export function renderKeyValue(
  pairs: [string, string | number | null | undefined][],
  opts: TableOptions,
): string {
  // No rule between rows: a listing of fields reads better compact.
  const table = new Table({
    style: style(opts.color),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const [k, v] of pairs) {
    table.push({ [k]: v === null || v === undefined ? '' : String(v) });
  }
  return table.toString();
}

/** One line of at most `max` characters: whitespace collapsed, an ellipsis when cut. */
export function trimText(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}
