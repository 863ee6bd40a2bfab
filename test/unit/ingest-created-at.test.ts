import { describe, expect, it } from 'vitest';
import { hashDocumentId } from '../../src/ingest/document-id.js';
import { createMapper } from '../../src/ingest/mapper.js';
import { validateRequest } from '../../src/ingest/validate.js';

/**
 * document_created_at is checked as the service's model (the Python SDK's pydantic datetime)
 * checks it, so no batch is refused (and bisected) over one bad date, and it is sent in one
 * normal form: ISO 8601 with an offset. Unix times of 10 or 13 digits are converted; other
 * bare numbers are refused as ambiguous; naive times are read in --timezone (default UTC).
 */

function createdAt(value: unknown, timezone?: string): string {
  const r = validateRequest(
    { document: 'x', document_created_at: value },
    undefined,
    timezone ? { timezone } : {},
  );
  if ('error' in r) throw new Error(r.error.message);
  return r.request.document_created_at!;
}

function refusal(value: unknown): string {
  const r = validateRequest({ document: 'x', document_created_at: value }, undefined, {});
  if (!('error' in r)) throw new Error(`accepted ${JSON.stringify(value)}`);
  expect(r.error.field).toBe('document_created_at');
  return r.error.message;
}

describe('document_created_at as the model reads it, in one normal form', () => {
  it.each([
    ['2024-03-15T10:30:00Z', '2024-03-15T10:30:00Z'],
    ['2024-03-15T10:30:00+02:00', '2024-03-15T10:30:00+02:00'],
    ['2024-03-15T10:30:00+0200', '2024-03-15T10:30:00+02:00'],
    ['2024-03-15T10:30:00-23:59', '2024-03-15T10:30:00-23:59'],
    ['2024-03-15 10:30', '2024-03-15T10:30:00Z'],
    ['2024-03-15t10:30:00.123456z', '2024-03-15T10:30:00.123456Z'],
    ['2024-03-15T10:30:00.123456789Z', '2024-03-15T10:30:00.123456Z'],
    ['2024-03-15', '2024-03-15T00:00:00Z'],
    ['2024-02-29', '2024-02-29T00:00:00Z'],
  ])('%s → %s', (given, sent) => {
    expect(createdAt(given)).toBe(sent);
  });

  it.each([
    [1710498600, '2024-03-15T10:30:00Z'],
    ['1710498600', '2024-03-15T10:30:00Z'],
    [1710498600123, '2024-03-15T10:30:00.123Z'],
    ['1710498600123', '2024-03-15T10:30:00.123Z'],
    [1710498600.5, '2024-03-15T10:30:00.500Z'],
  ])('Unix time %j → %s', (given, sent) => {
    expect(createdAt(given)).toBe(sent);
  });

  it.each([
    ['2024-03-15T10:30:60Z', /not an ISO-8601 date/],
    ['2024-03-15T24:00:00Z', /not an ISO-8601 date/],
    ['2024-03-15T10:30:00+24:00', /not an ISO-8601 date/],
    ['2024-03-15T10:30:00-25:00', /not an ISO-8601 date/],
    ['0000-01-01', /not an ISO-8601 date/],
    ['2023-02-29', /not an ISO-8601 date/],
    ['yesterday', /not an ISO-8601 date/],
    ['20240102', /"20240102" is a bare number of 8 digits/],
    [20240102, /number 20240102 is a bare number of 8 digits/],
    [42, /bare number of 2 digits/],
    ['171049860012', /bare number of 12 digits/],
    [Number.NaN, /not a date/],
    [true, /not a date/],
    ['', /not an ISO-8601 date/],
  ])('refuses %j', (given, message) => {
    expect(refusal(given)).toMatch(message);
  });

  it('--timezone: naive times are read in the zone, with its offset on that date (DST included)', () => {
    expect(createdAt('2024-01-15T10:30:00', 'Europe/Berlin')).toBe('2024-01-15T10:30:00+01:00');
    expect(createdAt('2024-07-15T10:30:00', 'Europe/Berlin')).toBe('2024-07-15T10:30:00+02:00');
    expect(createdAt('2024-03-15', 'Asia/Kolkata')).toBe('2024-03-15T00:00:00+05:30');
    expect(createdAt('2024-07-04 09:00', 'America/New_York')).toBe('2024-07-04T09:00:00-04:00');
    // A time that names its offset keeps it; a Unix time is an instant: both ignore the zone.
    expect(createdAt('2024-07-15T10:30:00Z', 'Europe/Berlin')).toBe('2024-07-15T10:30:00Z');
    expect(createdAt(1710498600, 'Europe/Berlin')).toBe('2024-03-15T10:30:00Z');
  });

  it('--timezone: a time on 1 January of year 1 west of UTC gets the offset of the zone, not a year of hours', () => {
    // The instants looked at lie in 1 BC: their wall clock must not be read as year 1 AD.
    expect(createdAt('0001-01-01T02:00:00', 'America/New_York')).toBe('0001-01-01T02:00:00-04:56');
    expect(createdAt('0001-01-01T02:00:00', 'Europe/Berlin')).toBe('0001-01-01T02:00:00+00:53');
  });

  it('hash ids stay what they were before dates were normalised (re-runs do not duplicate)', () => {
    const map = createMapper({});
    const id = (v: unknown) => {
      const r = map({ source: 's', line: 1, value: { document: 'x', document_created_at: v } });
      if (!r.ok) throw new Error('refused');
      return { id: r.request.document_id, sent: r.request.document_created_at };
    };
    // This id is what earlier versions derived from the record as given (its date unchanged).
    const earlier = id('2024-03-15T00:00:00Z').id;
    expect(id('2024-03-15T00:00:00Z').sent).toBe('2024-03-15T00:00:00Z');
    const dateOnly = id('2024-03-15');
    expect(dateOnly.sent).toBe('2024-03-15T00:00:00Z');
    // Sent the same, but derived from the text as given, as before: not the other record's id.
    expect(dateOnly.id).not.toBe(earlier);
    const plain = validateRequest({ document: 'x' }, undefined, {});
    if ('error' in plain) throw new Error('refused');
    expect(dateOnly.id).toBe(
      hashDocumentId({ ...plain.request, document_created_at: '2024-03-15' }),
    );
    // A different zone is a different body, so a different id.
    const zoned = createMapper({ defaults: { timezone: 'Europe/Berlin' } })({
      source: 's',
      line: 1,
      value: { document: 'x', document_created_at: '2024-03-15' },
    });
    expect(zoned.ok && zoned.request.document_id).not.toBe(dateOnly.id);
  });
});
