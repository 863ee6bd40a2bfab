import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/errors.js';
import { freshIngestState, ingestStateFile } from '../../src/ingest/checkpointer.js';
import { inputIdentity } from '../../src/ingest/readers/identity.js';
import { shardReport } from '../../src/ingest/shard-report.js';
import { createMapper } from '../../src/ingest/mapper.js';
import { inputFiles } from '../../src/ingest/run-files.js';
import { lockPathFor } from '../../src/ingest/lock.js';
import {
  fileShard,
  filesOfShard,
  ownsRecord,
  parseShardCount,
  parseShardSpec,
  resolveShard,
  shardFailuresPath,
  shardOf,
  shardTag,
  type Shard,
} from '../../src/ingest/shard.js';

const shard = (index: number, count: number, by: Shard['by'] = 'record'): Shard => ({
  index,
  count,
  by,
});

describe('--shard i/n and --shards N', () => {
  it('parses i/n numbered from 0, and refuses what is not one of n shards', () => {
    expect(parseShardSpec('2/8')).toEqual({ index: 2, count: 8 });
    expect(parseShardSpec(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['8/8', '1/0', '-1/4', '1.5/4', '2', 'a/b', '2/8/1', '']) {
      expect(() => parseShardSpec(bad), bad).toThrow(
        expect.objectContaining({ exitCode: ExitCode.USAGE }),
      );
    }
    expect(() => parseShardSpec('8/8')).toThrow(/from 0 to 7.*numbered from 0/);
    expect(parseShardCount('16')).toBe(16);
    expect(() => parseShardCount('0')).toThrow(/--shards/);
  });

  it('takes the index from JOB_COMPLETION_INDEX with --shards, and says what is missing', () => {
    expect(resolveShard({ shards: 4 }, { JOB_COMPLETION_INDEX: '3' })).toEqual(shard(3, 4));
    expect(resolveShard({ shards: 4, by: 'file' }, { JOB_COMPLETION_INDEX: '0' })).toEqual(
      shard(0, 4, 'file'),
    );
    // An explicit --shard wins over the environment.
    expect(resolveShard({ shard: { index: 1, count: 4 } }, { JOB_COMPLETION_INDEX: '3' })).toEqual(
      shard(1, 4),
    );
    expect(resolveShard({}, { JOB_COMPLETION_INDEX: '3' })).toBeUndefined();
    expect(() => resolveShard({ shards: 4 }, {})).toThrow(/JOB_COMPLETION_INDEX/);
    expect(() => resolveShard({ shards: 4 }, { JOB_COMPLETION_INDEX: '4' })).toThrow(
      /JOB_COMPLETION_INDEX.*from 0 to 3/,
    );
    expect(() => resolveShard({ shard: { index: 1, count: 4 }, shards: 8 }, {})).toThrow(
      /disagree/,
    );
    expect(() => resolveShard({ by: 'file' }, {})).toThrow(/--shard-by needs/);
  });
});

describe('which shard a record or a file belongs to', () => {
  const map = createMapper({});
  const rec = (value: unknown, line = 1) => map({ source: 'in.jsonl', line, value });

  it('every record belongs to exactly one of n shards, the one its document_id hashes to', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 1 }), fc.integer().map(String)),
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
        fc.integer({ min: 1, max: 64 }),
        fc.nat(),
        (id, text, n, ordinal) => {
          const m = rec({ document: text, document_id: id });
          const owners = Array.from({ length: n }, (_, i) => i).filter((i) =>
            ownsRecord(shard(i, n), m, ordinal),
          );
          expect(owners).toHaveLength(1);
          expect(owners[0]).toBe(shardOf(id, n));
        },
      ),
    );
  });

  it('a record without an id, or one that fails to map, still has exactly one shard', () => {
    const noId = rec({ document: 'hello' });
    const bad = rec({ nothing: 'here' });
    expect(bad.ok).toBe(false);
    for (const m of [noId, bad]) {
      const owners = [0, 1, 2, 3, 4].filter((i) => ownsRecord(shard(i, 5), m, 7));
      expect(owners).toHaveLength(1);
    }
    // --id-from none places a record where its hashed id would have put it.
    const none = createMapper({ idFrom: 'none' })({
      source: 's',
      line: 1,
      value: { document: 'hello' },
    });
    expect(none.ok && none.request.document_id).toBe(null);
    for (let i = 0; i < 5; i++) {
      expect(ownsRecord(shard(i, 5), none, 1)).toBe(ownsRecord(shard(i, 5), noId, 1));
    }
  });

  it('spreads ids evenly: 40,000 ids in 8 shards, each within 5% of 5,000', () => {
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 40_000; i++) counts[shardOf(`doc-${i}`, 8)]! += 1;
    for (const c of counts) expect(Math.abs(c - 5_000)).toBeLessThan(250);
  });

  it('the hash is fixed: sha256, first 4 bytes big-endian, mod n', () => {
    const first4 = parseInt(createHash('sha256').update('doc-1').digest('hex').slice(0, 8), 16);
    expect(shardOf('doc-1', 7)).toBe(first4 % 7);
  });

  it('splits files by their normalised path, whatever the order of the list', () => {
    const files = Array.from({ length: 40 }, (_, i) => `exports/tenant-${i}.jsonl`);
    const n = 4;
    const parts = Array.from({ length: n }, (_, i) => filesOfShard(files, shard(i, n, 'file')));
    expect(parts.flat().sort()).toEqual([...files].sort());
    const reversed = filesOfShard([...files].reverse(), shard(2, n, 'file'));
    expect(reversed.sort()).toEqual([...parts[2]!].sort());
    expect(fileShard('./exports/tenant-3.jsonl', n)).toBe(fileShard('exports/tenant-3.jsonl', n));
    expect(() => filesOfShard(['a.jsonl', '-'], shard(0, 2, 'file'))).toThrow(/stdin/);
  });
});

describe("a shard's file names", () => {
  // A file shard's files carry no tag: e2e/ingest-shard-files.test.ts looks for its done files.
  it('tags state, lock and failures files of a record shard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-shard-names-'));
    try {
      const input = join(dir, 'in.jsonl');
      writeFileSync(input, '{}\n');
      const o = { now: Date.UTC(2024, 0, 1), inputs: new Set<string>() };
      const tagged = await inputFiles(input, { ...o, tag: shardTag(shard(2, 8)) });
      expect(tagged.failures).toBe(`${input}.shard-2-of-8.failures.jsonl`);
      expect(ingestStateFile(tagged.base!).path).toBe(`${input}.shard-2-of-8.synap-state.json`);
      expect(lockPathFor(tagged.base!)).toBe(`${input}.shard-2-of-8.synap-lock`);
      const plain = await inputFiles(input, o);
      expect(ingestStateFile(plain.base!).path).toBe(`${input}.synap-state.json`);
      expect((await inputFiles('-', { ...o, tag: shardTag(shard(0, 2)) })).failures).toMatch(
        /^stdin-20240101-000000-[0-9a-f]{4}\.shard-0-of-2\.failures\.jsonl$/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(shardFailuresPath('out/failed.jsonl', shard(2, 8))).toBe(
      'out/failed.shard-2-of-8.jsonl',
    );
    expect(shardFailuresPath('out.d/failed', shard(2, 8))).toBe('out.d/failed.shard-2-of-8');
    expect(shardFailuresPath('.failed', shard(1, 2))).toBe('.failed.shard-1-of-2');
    expect(shardFailuresPath('failed.jsonl', undefined)).toBe('failed.jsonl');
  });
});

describe('--shard-report rows', () => {
  it('a stopped shard is told by its state file: its outcome counts, and no other count of the state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'synap-shard-report-'));
    try {
      const input = join(dir, 'data.jsonl');
      writeFileSync(input, '{"document":"a"}\n{"document":"b"}\n');
      // Shard 0/2 stopped after settling both records; no lock: nothing runs it now.
      const file = ingestStateFile(`${input}.shard-0-of-2`);
      const shape = { base_url: 'x', profile: 'p' } as Parameters<typeof freshIngestState>[2];
      const state = freshIngestState(file, await inputIdentity(input), shape, 'f.jsonl', 0);
      state.settled_records = 2;
      state.counts = { read: 2, accepted: 1, skipped: 0, failed: 1 };
      await file.write(state);
      const report = await shardReport({ inputs: [input], count: 2, by: 'record' });
      expect(report.rows[0]).toEqual({
        shard: '0/2',
        input,
        status: 'stopped',
        accepted: 1,
        skipped: 0,
        failed: 1,
        unchanged: 0,
        records_through: 2,
        updated_at: state.updated_at,
        failures_file: 'f.jsonl',
        file: file.path,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
