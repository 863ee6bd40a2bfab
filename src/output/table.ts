import { createRequire } from 'node:module';

type TableClass = typeof import('cli-table3');
let loaded: TableClass | undefined;

/**
 * cli-table3, loaded when a box is first drawn: pipes, files and --json never need it. It is
 * CommonJS, so require() loads it synchronously (on every Node 20) and the renderers stay
 * synchronous.
 */
function cliTable3(): TableClass {
  return (loaded ??= createRequire(import.meta.url)('cli-table3') as TableClass);
}

/**
 * Tables and key/value listings, laid out for where they go:
 * - a terminal: a cli-table3 box sized to the terminal's width, no rule between rows, cells
 *   cut with … only when the row would not fit (free-text columns give way first, so ids stay
 *   whole and copyable);
 * - a pipe or a file: plain tab-separated columns without a header (like `gh`), one row a line,
 *   and `key: value` lines, so `cut`, `awk` and `grep` work and no box drawing or escape code
 *   ends up in data.
 */
export interface TableOptions {
  /** Bold headers and keys; from colorFor() for the stream the table goes to. */
  color: boolean;
  /** The stream the text goes to (default stdout): decides layout and width. */
  stream?: NodeJS.WritableStream;
  /** Overrides the stream's TTY detection. */
  tty?: boolean;
  /** Overrides the stream's width (default its columns, else 80). */
  columns?: number;
  /**
   * Headers of columns that may be left out, the last named first, so that the first column
   * (an id, to be copied whole) is never cut: for such a table the first column keeps its width,
   * free-text columns give way, then these columns go, then free text is cut further.
   */
  optional?: string[];
}

type Cell = string | number | null | undefined;

const DEFAULT_COLUMNS = 80;
/** Narrowest a column is cut to (content plus its two padding spaces). */
const MIN_TEXT_WIDTH = 12;
const MIN_TOKEN_WIDTH = 8;
/** Narrowest free text is cut to when nothing else can give way: "ab…" and its padding. */
const MIN_CUT_TEXT_WIDTH = 5;
/** No rules between rows: a listing reads better compact. */
const NO_ROW_RULES = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

function isTty(opts: TableOptions): boolean {
  return opts.tty ?? ((opts.stream ?? process.stdout) as NodeJS.WriteStream).isTTY === true;
}

function widthOf(opts: TableOptions): number {
  if (opts.columns !== undefined) return opts.columns;
  const cols = ((opts.stream ?? process.stdout) as NodeJS.WriteStream).columns;
  return typeof cols === 'number' && cols > 0 ? cols : DEFAULT_COLUMNS;
}

function text(c: Cell): string {
  return c === null || c === undefined ? '' : String(c);
}

/** One line for a plain column: tabs and line breaks become spaces. */
function plainCell(c: Cell): string {
  return text(c)
    .replace(/[\t\r]+/g, ' ')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Column widths (padding included) as cli-table3 itself measures the cells: read off the top
 * border of a table rendered at its natural size, so wide characters count as they display.
 */
function naturalWidths(table: string): number[] {
  const top = table.split('\n')[0] ?? '';
  return top
    .replace(/^┌|┐$/g, '')
    .split('┬')
    .map((segment) => segment.length);
}

/**
 * Shrinks column widths until the table fits `columns`. First headers give way (a column is cut
 * to the width of its cells), then free-text columns, then the others, and last the first
 * column (the row's id, worth keeping whole to copy); widest first within each step.
 */
export function fitWidths(
  widths: number[],
  cellWidths: number[],
  freeText: boolean[],
  columns: number,
  opts: { keepFirst?: boolean; lastResort?: boolean } = {},
): number[] {
  const out = [...widths];
  const total = () => out.reduce((a, b) => a + b, 0) + out.length + 1;
  const floors: ((i: number) => number | undefined)[] = [
    (i) => Math.max(3, cellWidths[i] ?? 0),
    (i) => (freeText[i] && i > 0 ? MIN_TEXT_WIDTH : undefined),
    (i) => (!freeText[i] && i > 0 ? MIN_TOKEN_WIDTH : undefined),
    opts.keepFirst
      ? (i) => (opts.lastResort && freeText[i] && i > 0 ? MIN_CUT_TEXT_WIDTH : undefined)
      : (i) => (i === 0 ? (freeText[i] ? MIN_TEXT_WIDTH : MIN_TOKEN_WIDTH) : undefined),
  ];
  for (const floor of floors) {
    for (;;) {
      if (total() <= columns) return out;
      let widest = -1;
      for (let i = 0; i < out.length; i++) {
        const min = floor(i);
        if (min === undefined || out[i]! <= min) continue;
        if (widest === -1 || out[i]! > out[widest]!) widest = i;
      }
      if (widest === -1) break;
      out[widest]! -= 1;
    }
  }
  return out;
}

/** Renders rows under a header: a box on a terminal, tab-separated lines elsewhere. */
export function renderTable(head: string[], rows: Cell[][], opts: TableOptions): string {
  if (!isTty(opts)) return rows.map((r) => r.map(plainCell).join('\t')).join('\n');
  const Table = cliTable3();
  const cells = rows.map((r) => head.map((_, i) => text(r[i])));
  // Bold is written here rather than through cli-table3's style, whose colour library decides by
  // itself from the process's own stdout and environment, not from the stream this table is for.
  const style = { head: [], border: [] };
  const shownHead = opts.color ? head.map((h) => `\u001b[1m${h}\u001b[22m`) : head;
  const all = head.map((_, i) => i);
  const make = (withHead: boolean, colWidths?: number[], shown = all) => {
    const table = new Table({
      ...(withHead ? { head: shown.map((i) => shownHead[i]!) } : {}),
      style,
      chars: NO_ROW_RULES,
      ...(colWidths ? { colWidths } : {}),
    });
    for (const r of cells) table.push(shown.map((i) => r[i]!));
    return table.toString();
  };
  const natural = make(true);
  const widths = naturalWidths(natural);
  const columns = widthOf(opts);
  const fits = (w: number[]) => w.reduce((a, b) => a + b, 0) + w.length + 1 <= columns;
  if (fits(widths)) return natural;
  const cellWidths = cells.length > 0 ? naturalWidths(make(false)) : head.map(() => 0);
  const freeText = head.map((_, i) => cells.some((r) => /\s/.test(r[i]!.trim())));
  if (!opts.optional) return make(true, fitWidths(widths, cellWidths, freeText, columns));
  // The first column stays whole: optional columns go before free text is cut to a stub.
  const droppable = [...opts.optional]
    .reverse()
    .map((h) => head.indexOf(h))
    .filter((i) => i > 0);
  let shown = all;
  for (;;) {
    const pick = <T>(xs: T[]) => shown.map((i) => xs[i]!);
    const lastResort = droppable.length === 0;
    const w = fitWidths(pick(widths), pick(cellWidths), pick(freeText), columns, {
      keepFirst: true,
      lastResort,
    });
    if (fits(w) || lastResort) return make(true, w, shown);
    const next = droppable.shift()!;
    shown = shown.filter((i) => i !== next);
  }
}

/**
 * Renders `label: value` pairs: on a terminal a two-column box whose values wrap to fit the
 * width; elsewhere plain `label: value` lines (continuation lines of a value indented).
 */
export function renderKeyValue(pairs: [string, Cell][], opts: TableOptions): string {
  if (!isTty(opts)) {
    const bold = (s: string) => (opts.color ? `\u001b[1m${s}\u001b[22m` : s);
    return pairs
      .map(([k, v]) => `${bold(`${k}:`)} ${text(v).replace(/\r?\n/g, '\n  ')}`)
      .join('\n');
  }
  const Table = cliTable3();
  const style = { head: [], border: [] };
  const make = (colWidths?: number[]) => {
    const table = new Table({
      style,
      chars: NO_ROW_RULES,
      ...(colWidths ? { colWidths, wordWrap: true } : {}),
    });
    const room = (colWidths?.[1] ?? Infinity) - 2;
    for (const [k, v] of pairs) {
      const content = text(v);
      // Wrap at spaces, but split a word too long for the column rather than cut it off.
      const longWord = content.split(/\s+/).some((w) => w.length > room);
      table.push({
        [opts.color ? `\u001b[1m${k}\u001b[22m` : k]: { content, wrapOnWordBoundary: !longWord },
      });
    }
    return table.toString();
  };
  const natural = make();
  const [keyWidth = 0, valueWidth = 0] = naturalWidths(natural);
  const columns = widthOf(opts);
  if (keyWidth + valueWidth + 3 <= columns) return natural;
  return make([keyWidth, Math.max(MIN_TEXT_WIDTH, columns - keyWidth - 3)]);
}

/** One line of at most `max` characters: whitespace collapsed, an ellipsis when cut. */
export function trimText(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, Math.max(0, max - 1))}…`;
}
