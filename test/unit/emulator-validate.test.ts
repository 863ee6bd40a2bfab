import { describe, expect, it } from 'vitest';
import {
  FieldError,
  intParam,
  isIsoDate,
  isUuid,
  validateBatchEnvelope,
  validateCreate,
} from '../../src/emulator/validate.js';

describe('emulator validation', () => {
  it('applies the service defaults', () => {
    expect(validateCreate({ document: 'x' })).toEqual({
      document: 'x',
      document_id: null,
      document_type: 'ai-chat-conversation',
      mode: 'long-range',
      document_created_at: null,
      user_id: null,
      customer_id: null,
      metadata: {},
    });
  });

  it('names the failing field, with the batch prefix', () => {
    try {
      validateCreate({ document: 'x', document_type: 'note' }, 'documents[4].');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(FieldError);
      expect((err as FieldError).field).toBe('documents[4].document_type');
    }
  });

  it.each([
    ['2024-03-15', true],
    ['2024-03-15T10:30:00Z', true],
    ['2024-03-15T10:30:00.123+01:00', true],
    ['2024-03-15 10:30', true],
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2024-04-31', false],
    ['15/03/2024', false],
    ['2024-3-15', false],
    ['2024-00-10', false],
    ['now', false],
  ])('isIsoDate(%s) = %s', (value, expected) => {
    expect(isIsoDate(value)).toBe(expected);
  });

  it('checks UUIDs', () => {
    expect(isUuid('3f2b8c1e-0a4d-4c55-9a43-6d2e1f0b9c7a')).toBe(true);
    expect(isUuid('ing_42')).toBe(false);
  });

  it('checks the batch envelope', () => {
    expect(validateBatchEnvelope({ documents: [{}] }, 100).failFast).toBe(false);
    expect(() => validateBatchEnvelope({ documents: {} }, 100)).toThrow(FieldError);
    expect(() => validateBatchEnvelope({ documents: [1], fail_fast: 'yes' }, 100)).toThrow(
      /fail_fast/,
    );
    expect(() => validateBatchEnvelope({ documents: [1, 2, 3] }, 2)).toThrow(/at most 2/);
  });

  it('parses integer query parameters', () => {
    expect(intParam(null, 'page', 1, 1, 10)).toBe(1);
    expect(intParam('7', 'page', 1, 1, 10)).toBe(7);
    expect(() => intParam('11', 'page', 1, 1, 10)).toThrow(/between/);
    expect(() => intParam('1.5', 'page', 1, 1, 10)).toThrow(/integer/);
  });
});
