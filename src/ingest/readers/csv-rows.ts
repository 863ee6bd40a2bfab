/**
 * Rows of CSV text, split as csv-parse splits them with the options the CSV reader has always
 * used (`relax_quotes`, `relax_column_count`, `skip_empty_lines`, a one-character delimiter,
 * `"` as quote and escape), at a fraction of its cost per record: the text is scanned as a
 * string, one decode a chunk, instead of byte by byte into a buffer per field.
 *
 * The rules it follows (csv-parse's, checked against it by test/unit/ingest-csv-rows.test.ts):
 * - A row ends at the record break: the first CRLF, LF or CR met outside quotes decides which
 *   of them it is for the whole input; the others are text inside a field.
 * - A field that starts with `"` is quoted: `""` inside it is one `"`, and it ends at a `"`
 *   followed by the delimiter, the record break, a NUL or the end of the input. A `"` followed
 *   by anything else ends the quoting but keeps the field's text as written (`"ab"c` is the
 *   field `"ab"c`); a `"` inside an unquoted field is text.
 * - A line with nothing on it is no row; a line holding only `""` is a row of one empty field.
 * - An input that ends inside a quoted field loses that last row (`unclosedQuote`).
 * Lines are numbered as LineWindow numbers them: CRLF, LF and CR are one break each.
 * The row being read can be dropped (`drop()`, for a row over the size limit): its text is no
 * longer kept, it is still scanned to its end, and it comes out with `dropped` and no fields.
 */
export interface CsvRow {
  fields: string[];
  /** The line the row starts on. */
  line: number;
  /** The line it ends on (where its record break is, or the input's last line). */
  end: number;
  /** The row was dropped while it was read (`CsvRowParser.drop`): its fields are not kept. */
  dropped?: true;
}

/**
 * The text of a quoted field from `from` to `to`, each `""` in it one quote (its quotes all
 * come in such pairs: any other quote ends the quoting).
 */
function quotedText(s: string, from: number, to: number, escaped: boolean): string {
  const text = s.slice(from, to);
  return escaped ? text.replaceAll('""', '"') : text;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

export class CsvRowParser {
  private readonly delimiter: number;
  /** The record break once the first one is seen outside quotes. */
  private recordBreak: '' | '\n' | '\r' | '\r\n' = '';
  /** The end of the last text, kept until the next one shows what follows it. */
  private held = '';
  private fields: string[] = [];
  /** The current field's text from earlier pushes (or rewritten by a relaxed quote). */
  private field = '';
  private quoting = false;
  private wasQuoting = false;
  /** The line of the next character (a CR counts when seen; the LF of a CRLF does not). */
  private line = 1;
  private startLine = 1;
  private first = true;
  /** Whether the input ended inside a quoted field (that row is not returned). */
  unclosedQuote = false;
  /** The row being read is dropped: none of its text is kept. */
  private dropping = false;

  constructor(delimiter: string) {
    if (delimiter.length !== 1) throw new Error(`a CSV delimiter is one character`);
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** The line the row being read starts on. */
  get rowLine(): number {
    return this.startLine;
  }

  /**
   * Drops the row being read: its text so far is let go and no more of it is kept; it still
   * ends where it would have, and comes out as a row with `dropped` set.
   */
  drop(): void {
    this.dropping = true;
    this.fields = [];
    this.field = '';
  }

  /** Adds a field's text to the row, unless the row is dropped. */
  private addField(text: string): void {
    if (!this.dropping) this.fields.push(text);
  }

  /**
   * Parses `text`, the input's next characters, adding the rows it completes to `out`. `end`
   * says the input ends after it (then the last row needs no record break).
   */
  push(text: string, end: boolean, out: CsvRow[]): void {
    let s = this.held.length > 0 ? this.held + text : text;
    this.held = '';
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    // A CR may be the start of a CRLF and a `"` may be followed by `"` or the record break:
    // both wait for what comes after them.
    let limit = s.length;
    if (!end) {
      if (limit > 0 && s.charCodeAt(limit - 1) === CR) limit -= 1;
      if (limit > 0 && s.charCodeAt(limit - 1) === QUOTE) limit -= 1;
    }
    const delimiter = this.delimiter;
    let i = 0;
    // Where the current field's text not yet in `this.field` starts.
    let from = 0;
    // Whether that text holds a `""` (inside quotes).
    let escaped = false;
    while (i < limit) {
      if (this.quoting) {
        // Inside quotes only a quote and line breaks (counted) matter.
        let c = s.charCodeAt(i);
        while (c !== QUOTE && c !== CR && c !== LF && i < limit) c = s.charCodeAt(++i);
        if (i >= limit) break;
        if (c === CR) {
          this.line += 1;
          i += 1;
          continue;
        }
        if (c === LF) {
          if (i === 0 || s.charCodeAt(i - 1) !== CR) this.line += 1;
          i += 1;
          continue;
        }
        const next = s.charCodeAt(i + 1);
        if (next === QUOTE) {
          // `""`: one quote of the field's text, made one when the text is taken.
          escaped = true;
          i += 2;
          continue;
        }
        if (!this.dropping) this.field += quotedText(s, from, i, escaped);
        this.quoting = false;
        this.wasQuoting = true;
        if (
          Number.isNaN(next) ||
          next === 0 ||
          next === delimiter ||
          this.breakAt(s, i + 1) !== 0
        ) {
          i += 1;
          from = i;
          continue;
        }
        // Text after the closing quote: the field is kept as written, quotes included.
        if (!this.dropping) this.field = `"${this.field}"`;
        i += 1;
        from = i;
        continue;
      }
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        if (i === from && this.field === '') {
          this.quoting = true;
          escaped = false;
          i += 1;
          from = i;
        } else i += 1;
        continue;
      }
      if (c === delimiter) {
        this.addField(this.field === '' ? s.slice(from, i) : this.field + s.slice(from, i));
        this.field = '';
        this.wasQuoting = false;
        i += 1;
        from = i;
        continue;
      }
      if (c === CR || c === LF) {
        const n = this.breakAt(s, i);
        const afterCr = i > 0 && s.charCodeAt(i - 1) === CR;
        if (n === 0) {
          // A line break that is not the record break: text of the field.
          if (c === CR || !afterCr) this.line += 1;
          i += 1;
          continue;
        }
        const fieldText = this.field === '' ? s.slice(from, i) : this.field + s.slice(from, i);
        // The LF of a CRLF whose CR was text belongs to the CR's line.
        this.endRow(fieldText, c === LF && afterCr ? this.line - 1 : this.line, out);
        if (c === CR || !afterCr) this.line += 1;
        i += n;
        from = i;
        this.startLine = this.line;
        continue;
      }
      // Plain text: on to the next character that means something.
      i += 1;
      for (; i < limit; i++) {
        const d = s.charCodeAt(i);
        if (d === QUOTE || d === delimiter || d === CR || d === LF) break;
      }
    }
    if (!end) {
      if (from < i && !this.dropping)
        this.field += this.quoting ? quotedText(s, from, i, escaped) : s.slice(from, i);
      this.held = s.slice(i);
      return;
    }
    if (this.quoting) {
      this.unclosedQuote = true;
      return;
    }
    const last = s.charCodeAt(s.length - 1);
    // A line break ending the input ends the row's last line; it starts none.
    const lastLine = last === CR || last === LF ? this.line - 1 : this.line;
    this.endRow(this.field + s.slice(from), Math.max(lastLine, this.startLine), out);
  }

  /**
   * Ends the row being read on line `end`, its last field `fieldText`: it goes to `out`
   * unless it is a line with nothing on it.
   */
  private endRow(fieldText: string, end: number, out: CsvRow[]): void {
    if (this.dropping) {
      out.push({ fields: [], line: this.startLine, end, dropped: true });
      this.dropping = false;
    } else if (this.fields.length > 0 || fieldText !== '' || this.wasQuoting) {
      this.fields.push(fieldText);
      out.push({ fields: this.fields, line: this.startLine, end });
      this.fields = [];
    }
    this.field = '';
    this.wasQuoting = false;
  }

  /**
   * The length of the record break at `i` (0 when there is none), the first one seen outside
   * quotes deciding which it is.
   */
  private breakAt(s: string, i: number): number {
    const c = s.charCodeAt(i);
    if (c !== CR && c !== LF) return 0;
    const rb = this.recordBreak;
    if (rb === '') {
      if (c === CR && s.charCodeAt(i + 1) === LF) this.recordBreak = '\r\n';
      else this.recordBreak = c === CR ? '\r' : '\n';
      return this.recordBreak.length;
    }
    if (rb === '\n') return c === LF ? 1 : 0;
    if (rb === '\r') return c === CR ? 1 : 0;
    return c === CR && s.charCodeAt(i + 1) === LF ? 2 : 0;
  }
}
