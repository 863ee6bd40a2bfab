import { describe, expect, it } from 'vitest';
import { CliError, UsageError } from '../../src/errors.js';
import type { ListClient } from '../../src/export/paginator.js';
import { isIdPrefix, resolveIdPrefixes } from '../../src/memories/id-prefix.js';

/** A listing of these ids, `page_size` a page, counting the requests. */
function listing(ids: string[]): ListClient & { calls: number } {
  const client = {
    calls: 0,
    async list(params: { page: number; pageSize: number }) {
      client.calls += 1;
      const start = (params.page - 1) * params.pageSize;
      const data = ids.slice(start, start + params.pageSize).map((memory_id) => ({
        memory_id,
        content: 'x',
      }));
      return {
        data: {
          data,
          total: ids.length,
          page: params.page,
          page_size: params.pageSize,
          total_pages: Math.ceil(ids.length / params.pageSize),
        },
      };
    },
  };
  return client as unknown as ListClient & { calls: number };
}

const A = '7f6e3016-920e-4f5a-9a1b-111111111111';
const B = '7f6e3016-920e-4f5a-9a1b-222222222222';
const C = '0c2d4e6f-0000-4000-8000-000000000003';
const many = Array.from(
  { length: 250 },
  (_, i) => `${i.toString(16).padStart(8, 'a')}-0000-4000-8000-000000000000`,
);

describe('memory id prefixes', () => {
  it('tells a prefix from a whole id or something else', () => {
    expect(isIdPrefix('7f6e')).toBe(true);
    expect(isIdPrefix('7f6e3016-920e-')).toBe(true);
    expect(isIdPrefix(A)).toBe(false);
    expect(isIdPrefix('7f6')).toBe(false);
    expect(isIdPrefix('not-hex')).toBe(false);
    // Hex, but not the shape of an id's start (a dash after 3 digits).
    expect(isIdPrefix('bad-1')).toBe(false);
  });

  it('a unique prefix becomes the whole id; whole ids are left alone and cost no listing', async () => {
    const client = listing([...many, A, C]);
    expect(await resolveIdPrefixes(client, ['0C2D4', A])).toEqual([C, A]);
    expect(client.calls).toBe(3);
    const none = listing([A]);
    expect(await resolveIdPrefixes(none, [A, 'whatever'])).toEqual([A, 'whatever']);
    expect(none.calls).toBe(0);
  });

  it('an ambiguous prefix is a usage error listing the candidates', async () => {
    const err = await resolveIdPrefixes(listing([A, C, B]), ['7f6e3016']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain('start of 2 memory ids');
    expect((err as Error).message).toContain(A);
    expect((err as Error).message).toContain(B);
  });

  it('a prefix that matches nothing: exit 1 naming it', async () => {
    const err = await resolveIdPrefixes(listing([A]), ['beef']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(1);
    expect((err as Error).message).toContain('"beef"');
  });
});
