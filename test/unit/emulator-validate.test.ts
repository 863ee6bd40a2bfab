import { describe, expect, it } from 'vitest';
import {
  documentRefusal,
  fieldOf,
  intParam,
  isUuid,
  Refusal,
  RequestValidationError,
  validateBatch,
  validateCreate,
  validateEstimate,
} from '../../src/emulator/validate.js';
import { isIsoDate } from '../../src/client/datetime.js';

describe('emulator validation', () => {
  it('applies the model defaults to keys left out', () => {
    expect(validateCreate({ document: 'x' })).toEqual({
      document: 'x',
      documentIsText: true,
      document_id: null,
      document_type: 'ai-chat-conversation',
      mode: 'long-range',
      document_created_at: null,
      user_id: null,
      customer_id: null,
      scope: null,
      metadata: {},
    });
  });

  it('refuses a null estimate units as pydantic does: float_type, the null as its input', () => {
    expect(() => validateEstimate({ metric_type: 'memory_documents', units: null })).toThrow(
      expect.objectContaining({
        issues: [
          {
            type: 'float_type',
            loc: ['body', 'units'],
            msg: 'Input should be a valid number',
            input: null,
          },
        ],
      }),
    );
  });

  it('names every failing field with its loc, the batch index included', () => {
    try {
      validateBatch(
        { documents: [{ document: 'ok' }, { document: 'x', document_type: 'note', mode: null }] },
        100,
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(RequestValidationError);
      const issues = (err as RequestValidationError).issues;
      expect(issues.map((i) => i.loc)).toEqual([
        ['body', 'documents', 1, 'document_type'],
        ['body', 'documents', 1, 'mode'],
      ]);
      expect(fieldOf(issues[0]!.loc)).toBe('documents[1].document_type');
    }
  });

  it('reads fail_fast as a pydantic bool: null refused, lax strings and 0/1 accepted', () => {
    expect(validateBatch({ documents: [{ document: 'x' }], fail_fast: 'true' }, 100).failFast).toBe(
      true,
    );
    expect(validateBatch({ documents: [{ document: 'x' }], fail_fast: 0 }, 100).failFast).toBe(
      false,
    );
    expect(() => validateBatch({ documents: [{ document: 'x' }], fail_fast: null }, 100)).toThrow(
      RequestValidationError,
    );
    expect(() =>
      validateBatch({ documents: [{ document: 'x' }], fail_fast: 'maybe' }, 100),
    ).toThrow(/fail_fast/);
  });

  it('takes a Unix time for document_created_at, as pydantic does', () => {
    expect(
      validateCreate({ document: 'x', document_created_at: 1_700_000_000 }).document_created_at,
    ).toBe('2023-11-14T22:13:20.000Z');
  });

  it('document_created_at: numeric strings are Unix times too, as pydantic reads them', () => {
    expect(
      validateCreate({ document: 'x', document_created_at: '1700000000' }).document_created_at,
    ).toBe('2023-11-14T22:13:20.000Z');
    // What the model does with a date written as a bare number: seconds since 1970.
    expect(
      validateCreate({ document: 'x', document_created_at: '20240102' }).document_created_at,
    ).toBe('1970-08-23T06:15:02.000Z');
  });

  it('document_created_at: the model takes `_`, a space or `t` between date and time', () => {
    for (const value of ['2024-03-15_10:30:00Z', '2024-03-15 10:30:00Z', '2024-03-15t10:30:00z'])
      expect(
        validateCreate({ document: 'x', document_created_at: value }).document_created_at,
      ).toBe(value);
  });

  it.each([
    '2024-03-15T10:30:60Z',
    '2024-03-15T24:00:00',
    '2024-03-15T10:30:00+24:00',
    '2024-03-15T10:30:00-24:00',
    '0000-01-01T00:00:00Z',
  ])('document_created_at %s is refused, as the model refuses it', (value) => {
    expect(() => validateCreate({ document: 'x', document_created_at: value })).toThrow(
      RequestValidationError,
    );
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
    expect(validateBatch({ documents: [{ document: 'x' }] }, 100).failFast).toBe(false);
    expect(() => validateBatch({ documents: {} }, 100)).toThrow(RequestValidationError);
    expect(() => validateBatch({ documents: [1] }, 100)).toThrow(RequestValidationError);
    expect(() => validateBatch({ documents: [] }, 100)).toThrow(Refusal);
    expect(() =>
      validateBatch({ documents: [{ document: 'a' }, { document: 'b' }, { document: 'c' }] }, 2),
    ).toThrow(/at most 2/);
  });

  it('service rules beyond the model: B2C customer_id, scope paths on a ladder', () => {
    const b2c = { isolation: 'equals_customer', scopeLevels: null };
    const ladder = { isolation: 'strict', scopeLevels: ['customer', 'team', 'user'] };
    const plain = { isolation: 'strict', scopeLevels: null };
    const refusal = (body: Record<string, unknown>, rules: typeof plain | typeof ladder) =>
      documentRefusal(validateCreate({ document: 'x', ...body }), rules);
    expect(refusal({ customer_id: 'acme' }, b2c)).toMatchObject({
      status: 400,
      field: 'customer_id',
    });
    expect(refusal({ user_id: 'dana' }, b2c)).toBeUndefined();
    expect(refusal({ customer_id: 'acme', user_id: 'dana' }, plain)).toBeUndefined();
    expect(refusal({ scope: { customer: 'acme' } }, plain)).toMatchObject({ status: 400 });
    expect(refusal({ scope: {} }, ladder)).toMatchObject({ status: 422, code: 'INVALID_SCOPE' });
    expect(refusal({ scope: { customer: 'acme' } }, ladder)).toBeUndefined();
    expect(refusal({ scope: { team: 'payments', customer: 'acme' } }, ladder)).toBeUndefined();
    expect(
      refusal(
        { scope: { customer: 'acme', team: 'payments', user: 'dana' }, user_id: 'dana' },
        ladder,
      ),
    ).toBeUndefined();
    // A path skips no level and names no unknown one.
    expect(refusal({ scope: { team: 'payments' } }, ladder)).toMatchObject({
      code: 'INVALID_SCOPE',
    });
    expect(refusal({ scope: { customer: 'acme', region: 'eu' } }, ladder)).toMatchObject({
      code: 'INVALID_SCOPE',
    });
    expect(refusal({ scope: { customer: ' ' } }, ladder)).toMatchObject({
      field: 'scope.customer',
    });
    // On a ladder with a middle level, a user-level write must say which rung it is on.
    expect(refusal({ user_id: 'dana', customer_id: 'acme' }, ladder)).toMatchObject({
      code: 'SCOPE_REQUIRED',
    });
    expect(refusal({ customer_id: 'acme' }, ladder)).toBeUndefined();
  });

  it('parses integer query parameters', () => {
    expect(intParam(null, 'page', 1, 1, 10)).toBe(1);
    expect(intParam('7', 'page', 1, 1, 10)).toBe(7);
    expect(() => intParam('11', 'page', 1, 1, 10)).toThrow(/less than or equal to 10/);
    expect(() => intParam('1.5', 'page', 1, 1, 10)).toThrow(/valid integer/);
  });
});
