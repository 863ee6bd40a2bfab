/**
 * How help text is laid out and written: prose re-wrapped to the terminal's width (80 columns
 * in a pipe), option lists and examples kept as they are.
 */

function helpWidth(): number {
  const out = process.stdout as NodeJS.WriteStream;
  return out.isTTY && out.columns > 0 ? out.columns : 80;
}

function wrap(words: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else {
      line = line === '' ? w : `${line} ${w}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Re-wraps the prose paragraphs of help text that run past `width`. A paragraph is a run of
 * lines that start at the margin; indented lines (option lists, examples) are kept as they are.
 */
export function fitHelpText(text: string, width: number): string {
  const lines = text.split('\n');
  const out: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.some((l) => l.length > width)) {
      out.push(...wrap(paragraph.join(' ').split(/\s+/).filter(Boolean), width));
    } else {
      out.push(...paragraph);
    }
    paragraph = [];
  };
  for (const line of lines) {
    const prose = line !== '' && !/^\s/.test(line);
    if (prose) {
      paragraph.push(line);
      // A heading ("Examples:") ends its paragraph.
      if (line.endsWith(':')) flush();
    } else {
      flush();
      out.push(line);
    }
  }
  flush();
  return out.join('\n');
}

/** Writes commander's help text to stdout, fitted to the width. */
export function writeHelp(text: string): void {
  process.stdout.write(fitHelpText(text, helpWidth()));
}
