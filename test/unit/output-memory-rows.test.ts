import { describe, expect, it } from 'vitest';
import { cellText, memoryTable } from '../../src/output/memory-rows.js';

const view = { color: false, stderrColor: false, quiet: false };

describe('memory rows', () => {
  it('a field is text: nothing for null, JSON for an object or an array, the rest as it is', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(undefined)).toBe('');
    expect(cellText({ a: 1 })).toBe('{"a":1}');
    expect(cellText(['x', 2])).toBe('["x",2]');
    expect(cellText(0.5)).toBe('0.5');
    expect(cellText('plain')).toBe('plain');
  });

  it('the list table shows an object-valued content as JSON, never [object Object]', () => {
    const table = memoryTable(
      [{ memory_id: 'm-1', memory_type: 'fact', content: { likes: 'tea' }, created_at: 'today' }],
      view,
    );
    expect(table).toContain('{"likes":"tea"}');
    expect(table).not.toContain('[object Object]');
  });
});
