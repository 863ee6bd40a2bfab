import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fitToWidth, LiveLine, terminalWidth, UNKNOWN_WIDTH } from '../../src/output/live-line.js';

/** A terminal stream of a given width that records what is written to it. */
function fakeTerminal(columns: number | undefined) {
  const stream = new PassThrough() as PassThrough & { columns?: number; isTTY: boolean };
  stream.isTTY = true;
  if (columns !== undefined) stream.columns = columns;
  let written = '';
  stream.on('data', (d: Buffer) => (written += d.toString('utf8')));
  return { stream, written: () => written };
}

// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;]*[A-Za-z]/g;

describe('the live progress line', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([0, undefined, Number.NaN, -3])('a width of %s is taken as 80', (columns) => {
    expect(terminalWidth(fakeTerminal(columns).stream)).toBe(UNKNOWN_WIDTH);
  });

  it('at width 0 a second of frames writes a few hundred bytes, each frame within 80 columns', async () => {
    const t = fakeTerminal(0);
    const line = new LiveLine(t.stream, { color: false });
    line.show(`ingesting ${'a-very-long-path/'.repeat(20)}: 1,200 records`);
    await vi.advanceTimersByTimeAsync(1000);
    line.hide();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.written().length).toBeLessThan(20 * 200);
    const frames = t.written().replace(ESCAPES, '').split('\r');
    for (const f of frames) expect([...f].length).toBeLessThan(UNKNOWN_WIDTH);
    // Each erasure goes back over one row only: the line never wrapped.
    // eslint-disable-next-line no-control-regex
    expect(t.written()).not.toMatch(/\u001b\[\d+A/);
  });

  it('after the terminal gets narrower, the erasure goes up over every row the old line wraps onto', async () => {
    const t = fakeTerminal(120);
    const line = new LiveLine(t.stream, { color: false });
    line.show('x'.repeat(200));
    t.stream.columns = 30;
    const before = t.written().length;
    t.stream.emit('resize');
    // 117 columns drawn (120 less the spare ones), on a 30-column terminal: 4 rows, up 3.
    // eslint-disable-next-line no-control-regex
    expect(t.written().slice(before)).toMatch(/^\u001b\[3A\r\u001b\[J/);
    line.hide();
  });

  it('under 10 columns nothing is drawn', async () => {
    const t = fakeTerminal(9);
    const line = new LiveLine(t.stream, { color: false });
    line.show('ingesting');
    await vi.advanceTimersByTimeAsync(500);
    line.hide();
    expect(t.written()).toBe('');
  });

  it('cuts text by display columns, with an ellipsis, and drops control characters', () => {
    expect(fitToWidth('abcdef', 6)).toEqual({ text: 'abcdef', width: 6 });
    expect(fitToWidth('abcdef', 4)).toEqual({ text: 'abc…', width: 4 });
    expect(fitToWidth('日本語のテキスト', 7)).toEqual({ text: '日本語…', width: 7 });
    expect(fitToWidth('a\u001b[2Jb\r\nc', 10)).toEqual({ text: 'a[2Jbc', width: 6 });
    expect(fitToWidth('abc', 0)).toEqual({ text: '', width: 0 });
  });
});
