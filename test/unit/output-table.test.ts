import { describe, expect, it } from 'vitest';
import { colorFor } from '../../src/global-options.js';
import { fitWidths, renderKeyValue, renderTable } from '../../src/output/table.js';

const ID = '3f0c9d2e-5b1a-4c11-9a53-0d7d1c1f2b11';
const rows = [
  [
    ID,
    'episode',
    'User: a long line of free text that can be cut when room runs out',
    '2024-01-01',
  ],
  ['8a7b6c5d-0000-4000-8000-000000000001', 'fact', 'short', '2024-01-02'],
];
const head = ['id', 'type', 'content', 'created'];

function lines(s: string): string[] {
  return s.split('\n');
}

describe('renderTable on a terminal', () => {
  it('fits every width from 60 to 200 columns, ids whole as long as anything else can give', () => {
    for (let columns = 60; columns <= 200; columns += 7) {
      const t = renderTable(head, rows, { color: false, tty: true, columns });
      for (const l of lines(t)) expect([...l].length).toBeLessThanOrEqual(columns);
      if (columns >= 75) expect(t).toContain(ID);
    }
  });

  it('cuts nothing when the table fits, and has no rule between rows', () => {
    const t = renderTable(head, rows, { color: false, tty: true, columns: 200 });
    expect(t).toContain(rows[0]![2]);
    expect(t).not.toContain('…');
    expect(t).not.toContain('├');
    expect(lines(t)).toHaveLength(2 + 1 + rows.length); // top, header, rows, bottom
  });

  it('cuts free text first, with …', () => {
    const t = renderTable(head, rows, { color: false, tty: true, columns: 90 });
    expect(t).toContain('User: a long');
    expect(t).toContain('…');
    expect(t).toContain('2024-01-01');
    expect(t).toContain('episode');
  });

  it('bolds the header only with colour', () => {
    expect(renderTable(head, rows, { color: true, tty: true, columns: 200 })).toContain(
      '\u001b[1m',
    );
    expect(renderTable(head, rows, { color: false, tty: true, columns: 200 })).not.toContain(
      '\u001b',
    );
  });
});

describe('renderTable in a pipe', () => {
  it('prints tab-separated rows without a header; tabs and line breaks in cells become spaces', () => {
    const t = renderTable(
      ['a', 'b'],
      [
        ['x\ty', 'line 1\nline 2'],
        [null, 3],
      ],
      {
        color: true,
        tty: false,
      },
    );
    expect(t).toBe('x y\tline 1 line 2\n\t3');
  });
});

describe('fitWidths', () => {
  it('lets headers give way before any cell is cut', () => {
    // "memories" header (10) over one-digit cells (3): that column goes first.
    expect(fitWidths([38, 10, 20], [38, 3, 20], [false, false, false], 66)).toEqual([38, 4, 20]);
  });
  it('keeps the first column whole until the others are at their minimum', () => {
    const out = fitWidths([38, 40, 20], [38, 40, 20], [false, true, false], 70);
    expect(out[0]).toBe(38);
    expect(out.reduce((a, b) => a + b, 0) + 4).toBeLessThanOrEqual(70);
  });
});

describe('renderKeyValue', () => {
  it('wraps long values to the width on a terminal, splitting a word only when it must', () => {
    const long = 'word '.repeat(40).trim();
    const json = JSON.stringify({ a: 'x'.repeat(120) });
    const t = renderKeyValue(
      [
        ['content', long],
        ['metadata', json],
      ],
      { color: false, tty: true, columns: 60 },
    );
    for (const l of lines(t)) expect([...l].length).toBeLessThanOrEqual(60);
    expect(t.replace(/[│\s]+/g, '')).toContain(json);
    expect(t).not.toContain('…');
  });
  it('prints `key: value` lines elsewhere, continuation lines indented', () => {
    expect(
      renderKeyValue(
        [
          ['a', 1],
          ['b', 'x\ny'],
          ['c', null],
        ],
        { color: false, tty: false },
      ),
    ).toBe('a: 1\nb: x\n  y\nc: ');
  });
});

describe('colorFor', () => {
  const tty = { isTTY: true } as unknown as NodeJS.WritableStream;
  const pipe = { isTTY: false } as unknown as NodeJS.WritableStream;
  it.each([
    ['a terminal', tty, false, {}, true],
    ['a pipe', pipe, false, {}, false],
    ['--no-color', tty, true, {}, false],
    ['NO_COLOR', tty, false, { NO_COLOR: '1' }, false],
    ['an empty NO_COLOR', tty, false, { NO_COLOR: '' }, true],
    ['TERM=dumb', tty, false, { TERM: 'dumb' }, false],
    ['FORCE_COLOR into a pipe', pipe, false, { FORCE_COLOR: '1' }, true],
    ['FORCE_COLOR over NO_COLOR', pipe, false, { FORCE_COLOR: '1', NO_COLOR: '1' }, true],
    ['FORCE_COLOR=0 on a terminal', tty, false, { FORCE_COLOR: '0' }, false],
    ['--no-color over FORCE_COLOR', tty, true, { FORCE_COLOR: '1' }, false],
  ])('%s', (_name, stream, flag, env, expected) => {
    expect(colorFor(stream, flag, env)).toBe(expected);
  });
});
