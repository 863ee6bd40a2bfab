import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isOutputClosed, writeText } from '../../src/output/json.js';
import { createProgress } from '../../src/output/progress.js';
import { formatRequestLine } from '../../src/output/verbose.js';
import { renderTable, trimText } from '../../src/output/table.js';
import { promptConfirm, promptSecret } from '../../src/output/prompts.js';
import { UsageError } from '../../src/errors.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('writeText', () => {
  it('waits for drain when the stream is full', async () => {
    const chunks: string[] = [];
    let release: (() => void) | undefined;
    const slow = new Writable({
      highWaterMark: 4,
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk.toString());
        release = cb;
      },
    });
    const first = writeText('{"a":1}\n', slow);
    let settled = false;
    void first.then(() => (settled = true));
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // blocked on backpressure
    release?.();
    expect(await first).toBe(true);
    expect(chunks.join('')).toBe('{"a":1}\n');
  });

  it('returns false after EPIPE instead of throwing', async () => {
    const s = new Writable({
      write(_c, _e, cb) {
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        cb(err);
      },
    });
    await writeText('{"a":1}\n', s);
    await new Promise((r) => setImmediate(r));
    expect(isOutputClosed(s)).toBe(true);
    expect(await writeText('{"b":2}\n', s)).toBe(false);
  });
});

describe('progress', () => {
  it('prints plain lines at most once per interval when not on a TTY', async () => {
    const out = new PassThrough();
    const clock = new FakeClock(0);
    const p = createProgress({ stream: out, isTTY: false, intervalMs: 1000, clock });
    p.start('starting');
    await clock.advance(500);
    p.update('half a second'); // too soon: skipped
    await clock.advance(700);
    p.update('later');
    p.log('a line');
    p.stop('done');
    // Each plain line starts with its ISO time, for logs.
    expect(String(out.read())).toBe(
      '1970-01-01T00:00:00.000Z starting\n1970-01-01T00:00:01.200Z later\n' +
        '1970-01-01T00:00:01.200Z a line\n1970-01-01T00:00:01.200Z done\n',
    );
  });

  it('counts a line identical to the one before instead of printing it again', () => {
    const out = new PassThrough();
    let t = 0;
    const clock = { now: () => t, sleep: () => Promise.resolve() };
    const p = createProgress({ stream: out, isTTY: false, intervalMs: 60_000, clock });
    p.start('run');
    for (let i = 0; i < 10; i++) {
      t += 1000;
      p.log('retrying');
    }
    p.log('other');
    p.log('retrying');
    p.stop();
    expect(String(out.read()).split('\n')).toEqual([
      '1970-01-01T00:00:00.000Z run',
      '1970-01-01T00:00:01.000Z retrying',
      '1970-01-01T00:00:10.000Z retrying (repeated 9 more times)',
      '1970-01-01T00:00:10.000Z other',
      '1970-01-01T00:00:10.000Z retrying',
      '',
    ]);
  });

  it('prints nothing with quiet', () => {
    const out = new PassThrough();
    const p = createProgress({ stream: out, quiet: true });
    p.start('x');
    p.log('y');
    p.stop('z');
    expect(out.read()).toBeNull();
  });

  it('redacts keys', () => {
    const out = new PassThrough();
    const p = createProgress({ stream: out, isTTY: false });
    p.start('using synap_abcdefghijklmnopqrstuvwxyz');
    expect(String(out.read())).not.toContain('abcdefghijklmnop');
  });
});

describe('verbose line', () => {
  it('has method, path, status, ms, correlation id and attempt', () => {
    const line = formatRequestLine({
      method: 'get',
      path: '/api/v1/memories?page=2',
      status: 200,
      ms: 12.4,
      correlationId: 'cid-1',
      attempt: 2,
    });
    expect(line).toBe('synap: http GET /api/v1/memories?page=2 200 12ms cid=cid-1 attempt=2');
  });
  it('shows the network error when there is no status', () => {
    expect(
      formatRequestLine({
        method: 'POST',
        path: '/x',
        ms: 3,
        correlationId: 'c',
        attempt: 1,
        error: 'ECONNRESET',
      }),
    ).toContain(' ECONNRESET ');
  });
});

describe('tables', () => {
  it('has no colour codes without colour', () => {
    const t = renderTable(['id', 'content'], [['1', 'hello']], { color: false });
    expect(t).not.toContain('\u001b[');
    expect(t).toContain('hello');
  });
  it('trims long text to one line', () => {
    expect(trimText('a\n b   c', 10)).toBe('a b c');
    expect(trimText('x'.repeat(20), 10)).toBe(`${'x'.repeat(9)}…`);
  });
});

describe('prompt guard', () => {
  it('refuses to prompt when not interactive, naming the alternative', async () => {
    const guard = { interactive: false, alternative: 'Use --yes.', color: false };
    await expect(promptConfirm('sure?', guard)).rejects.toThrow(UsageError);
    await expect(promptSecret('key', guard)).rejects.toMatchObject({ hints: ['Use --yes.'] });
  });
});
