/**
 * One line of a terminal that is drawn over and over (a spinner and its text), kept to what
 * the terminal can show at every size:
 *
 * - the width is asked of the terminal at each draw; a width it does not know (0 x 0 is what a
 *   new pty reports until someone sets it: `docker run -t`, `script`, some CI runners) is 80;
 * - the text is cut to leave the last columns free, so it never wraps at the size it was drawn
 *   for, not even when the terminal echoes `^C` after it; a terminal too narrow to show a
 *   useful line (under 10 columns) gets none;
 * - erasing it counts the rows it takes at the terminal's width now: after a window is made
 *   narrower, terminals that reflow (VTE, iTerm2, Terminal.app, Windows Terminal, kitty, tmux)
 *   have wrapped the old line onto several rows, and all of them are erased, never just the last;
 * - nothing loops on a count derived from the width, so a width of 0 or 1 costs no more than 80.
 *
 * The cursor stays visible: a process killed while drawing leaves the terminal as it was.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
/** Columns left free at the end of the line: the cursor, and the `^C` a terminal echoes. */
const SPARE_COLUMNS = 3;
/** Narrower than this, no line is drawn: it would show a spinner and a letter or two. */
const MIN_WIDTH = 10;
/** The width used when the terminal reports none (or 0). */
export const UNKNOWN_WIDTH = 80;
const CYAN = '\u001b[36m';
const RESET = '\u001b[39m';

/**
 * The terminal's width now, else 80. `columns` (and `getWindowSize()`, which returns it) is
 * refreshed only when Node handles SIGWINCH, so a frame drawn between a resize and that would
 * use the old width; the tty handle's own getWindowSize asks the terminal (one ioctl).
 */
export function terminalWidth(stream: NodeJS.WritableStream): number {
  const tty = stream as Partial<NodeJS.WriteStream> & {
    _handle?: { getWindowSize?: (size: number[]) => unknown };
  };
  let columns: number | undefined;
  const size: number[] = [];
  try {
    if (typeof tty._handle?.getWindowSize === 'function' && !tty._handle.getWindowSize(size)) {
      columns = size[0];
    }
  } catch {
    columns = undefined;
  }
  columns ??= tty.columns;
  return typeof columns === 'number' && Number.isFinite(columns) && columns > 0
    ? Math.floor(columns)
    : UNKNOWN_WIDTH;
}

/** Columns a code point takes: 0 for combining marks and controls, 2 for wide East Asian. */
function cellWidth(cp: number): number {
  if (
    isControl(cp) ||
    (cp >= 0x300 && cp <= 0x36f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f)
  ) {
    return 0;
  }
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/**
 * `text` cut to at most `max` columns (with … when cut), and the columns it takes. Control
 * characters are dropped: the line is drawn by this module alone.
 */
export function fitToWidth(text: string, max: number): { text: string; width: number } {
  const chars = [...text].filter((c) => !isControl(c.codePointAt(0)!));
  const total = chars.reduce((n, c) => n + cellWidth(c.codePointAt(0)!), 0);
  if (total <= max) return { text: chars.join(''), width: total };
  if (max < 1) return { text: '', width: 0 };
  let out = '';
  let width = 0;
  for (const c of chars) {
    const w = cellWidth(c.codePointAt(0)!);
    if (width + w > max - 1) break;
    out += c;
    width += w;
  }
  return { text: `${out}…`, width: width + 1 };
}

function isControl(cp: number): boolean {
  return cp < 32 || (cp >= 0x7f && cp < 0xa0);
}

export interface LiveLineOptions {
  color: boolean;
}

/** A spinner line on a terminal stream; see the file comment. */
export class LiveLine {
  private text = '';
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Columns of what is on screen now; undefined when nothing is. */
  private drawn: number | undefined;
  private blocked = false;
  private readonly onResize = () => this.redraw();

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly opts: LiveLineOptions,
  ) {}

  /** Draws the line with this text and keeps the spinner turning until `hide()`. */
  show(text: string): void {
    this.text = text;
    if (this.timer === undefined) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % FRAMES.length;
        this.redraw();
      }, FRAME_MS);
      this.timer.unref();
      (this.stream as Partial<NodeJS.WriteStream>).on?.('resize', this.onResize);
    }
    this.redraw();
  }

  /** Changes the text; drawn at the next frame. */
  setText(text: string): void {
    this.text = text;
  }

  /** Erases the line and stops the spinner. */
  hide(): void {
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      (this.stream as Partial<NodeJS.WriteStream>).off?.('resize', this.onResize);
    }
    const erase = this.erasure();
    if (erase !== '') this.stream.write(erase);
    this.drawn = undefined;
  }

  /** What erases the line on screen: up over the rows it wraps onto at today's width, then down. */
  private erasure(): string {
    if (this.drawn === undefined) return '';
    const rows = Math.max(1, Math.ceil(this.drawn / terminalWidth(this.stream)));
    return `${rows > 1 ? `\u001b[${rows - 1}A` : ''}\r\u001b[J`;
  }

  private redraw(): void {
    if (this.timer === undefined || this.blocked) return;
    const width = terminalWidth(this.stream);
    if (width < MIN_WIDTH) {
      const erase = this.erasure();
      this.drawn = undefined;
      if (erase !== '') this.stream.write(erase);
      return;
    }
    const frame = FRAMES[this.frame]!;
    // The frame and a space, then the text, leaving the last columns free.
    const body = fitToWidth(this.text, width - SPARE_COLUMNS - 2);
    const head = this.opts.color ? `${CYAN}${frame}${RESET} ` : `${frame} `;
    const ok = this.stream.write(`${this.erasure()}${head}${body.text}`);
    this.drawn = 2 + body.width;
    if (!ok) {
      // A slow terminal: no frames until it has taken what it was given.
      this.blocked = true;
      this.stream.once('drain', () => {
        this.blocked = false;
      });
    }
  }
}
