import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkResumable,
  hashMapping,
  hashShape,
  ingestStateFile,
  type IngestState,
  type RequestShape,
} from '../../src/ingest/checkpointer.js';
import type { IngestFlags } from '../../src/commands/ingest-options.js';
import { ingestRunOptions } from '../../src/commands/ingest-run.js';
import { requestShape } from '../../src/ingest/options.js';
import { PrefixHash } from '../../src/ingest/readers/index.js';
import type { Session } from '../../src/session.js';
import { exportStateFile } from '../../src/export/state.js';

const shape: RequestShape = {
  base_url: 'http://127.0.0.1:1',
  profile: 'default',
  format: null,
  map: { document: 'body', document_id: 'id' },
  document_type: 'email',
  mode: null,
  user_id: null,
  customer_id: null,
  metadata: { source: 'migration' },
  id_from: 'hash',
};

function stateFor(s: RequestShape, settled = 10): IngestState {
  return {
    version: 1,
    kind: 'synap-ingest',
    input: { path: 'in.jsonl', size: 100, fingerprint: 'f1' },
    options_hash: hashShape(s),
    shape: s,
    settled_records: settled,
    watermark_line: settled,
    counts: { read: settled, accepted: settled, skipped: 0, failed: 0 },
    failures_file: 'in.jsonl.failures.jsonl',
    started_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
  };
}

const identity = { path: 'in.jsonl', size: 100, mtimeMs: 0, fingerprint: 'f1' };

describe('ingest state file', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'synap-state-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('hashes options independently of key order; any request-shaping change changes it', () => {
    const reordered = { ...shape, map: { document_id: 'id', document: 'body' } };
    expect(hashShape(reordered)).toBe(hashShape(shape));
    for (const change of [
      { mode: 'fast' },
      { map: { document: 'text' } },
      { metadata: {} },
      { id_from: 'none' },
      { user_id: 'u1' },
      { base_url: 'http://127.0.0.1:2' },
    ] as Partial<RequestShape>[]) {
      expect(hashShape({ ...shape, ...change })).not.toBe(hashShape(shape));
    }
  });

  it('writes atomically (no temp file left) and reads back; a torn file is a usage error', async () => {
    const dir = tmp();
    const file = ingestStateFile(join(dir, 'in.jsonl'));
    await file.write(stateFor(shape, 5));
    await file.write(stateFor(shape, 7));
    expect(readdirSync(dir)).toEqual(['in.jsonl.synap-state.json']);
    expect((await file.read())?.settled_records).toBe(7);
    expect(await ingestStateFile(join(dir, 'missing.jsonl')).read()).toBeUndefined();
    writeFileSync(file.path, readFileSync(file.path, 'utf8').slice(0, 40));
    await expect(file.read()).rejects.toBeInstanceOf(UsageError);
  });

  it('refuses a changed input and changed options, naming the difference', async () => {
    const dir = tmp();
    const path = join(dir, 'in.jsonl');
    writeFileSync(path, `${'{"document":"x"}\n'.repeat(10)}`);
    const prefix = PrefixHash.empty();
    prefix.update(readFileSync(path).subarray(0, 51), 0);
    const id = { path, size: 170, mtimeMs: 1234, fingerprint: 'f1' };
    const state: IngestState = {
      ...stateFor(shape),
      input: { path, size: 170, fingerprint: 'f1', mtime_ms: 1234, consumed: prefix.snapshot() },
    };
    await expect(checkResumable(state, 's.json', id, shape)).resolves.toBeInstanceOf(PrefixHash);
    await expect(
      checkResumable(state, 's.json', { ...id, size: 169, fingerprint: 'f2' }, shape),
    ).rejects.toThrow(/changed since the interrupted run .*size 170 → 169/);
    await expect(checkResumable(state, 's.json', { ...id, mtimeMs: 99 }, shape)).rejects.toThrow(
      /modified since the interrupted run/,
    );
    await expect(checkResumable(state, 's.json', id, { ...shape, mode: 'fast' })).rejects.toThrow(
      /--mode \(none\) → fast/,
    );
    // What a transcript or a chat export gives is named by its flag too.
    for (const [change, named] of [
      [{ created_at: '2025-01-01T00:00:00Z' }, /: --created-at \(none\) → 2025-01-01T00:00:00Z$/],
      [{ channels: ['general'] }, /: --channels \(none\) → \["general"\]$/],
      [{ include_private: true }, /: --include-private \(none\) → true$/],
    ] as [Partial<RequestShape>, RegExp][]) {
      await expect(checkResumable(state, 's.json', id, { ...shape, ...change })).rejects.toThrow(
        named,
      );
    }
    // Same size, same ends, same time: a byte inside what was read differs.
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('"x"}\n{"document":"x"}\n{', '"y"}\n{"document":"x"}\n{'),
    );
    await expect(checkResumable(state, 's.json', id, shape)).rejects.toThrow(
      /the 51 bytes already read are not the same/,
    );
    // A state saved without what was read cannot be checked.
    await expect(checkResumable(stateFor(shape), 's.json', identity, shape)).rejects.toThrow(
      /cannot be checked/,
    );
  });

  it('growth is not change: a grown input whose bytes already read are the same resumes', async () => {
    const dir = tmp();
    const path = join(dir, 'grows.jsonl');
    const line = '{"document":"x"}\n';
    writeFileSync(path, line.repeat(10));
    const prefix = PrefixHash.empty();
    prefix.update(readFileSync(path).subarray(0, 51), 0);
    const saved = (): IngestState => ({
      ...stateFor(shape),
      input: { path, size: 170, fingerprint: 'f1', mtime_ms: 1234, consumed: prefix.snapshot() },
    });
    writeFileSync(path, line.repeat(12));
    const grown = { path, size: 204, mtimeMs: 5678, fingerprint: 'f2' };
    const state = saved();
    await expect(checkResumable(state, 's.json', grown, shape)).resolves.toBeInstanceOf(PrefixHash);
    // The state now describes the grown input, so its next checkpoint and resume check that.
    expect(state.input).toMatchObject({ size: 204, fingerprint: 'f2', mtime_ms: 5678 });

    // Grown, and a byte already read changed: refused as before.
    writeFileSync(path, `{"document":"y"}\n${line.repeat(11)}`);
    await expect(checkResumable(saved(), 's.json', grown, shape)).rejects.toThrow(
      /the 51 bytes already read are not the same/,
    );
    // Grown, with the options changed: refused as before.
    writeFileSync(path, line.repeat(12));
    await expect(
      checkResumable(saved(), 's.json', grown, { ...shape, mode: 'fast' }),
    ).rejects.toThrow(/--mode/);
    // Every byte was read and the last line had no newline: what was appended may continue
    // that record, so it is a change, not growth.
    writeFileSync(path, `${line.repeat(9)}{"document":"x"}`);
    const whole = PrefixHash.empty();
    whole.update(readFileSync(path), 0);
    const all: IngestState = {
      ...stateFor(shape),
      input: { path, size: 169, fingerprint: 'f1', mtime_ms: 1, consumed: whole.snapshot() },
    };
    writeFileSync(path, `${line.repeat(9)}{"document":"x"}, "more": 1}\n`);
    await expect(
      checkResumable(all, 's.json', { path, size: 180, mtimeMs: 2, fingerprint: 'f3' }, shape),
    ).rejects.toThrow(/changed since the interrupted run .*last line/);
  });

  it('never contains the API key (it is not part of the shape)', async () => {
    const dir = tmp();
    const file = ingestStateFile(join(dir, 's.jsonl'));
    await file.write(stateFor(shape));
    expect(readFileSync(file.path, 'utf8')).not.toMatch(/synap_/);
  });

  it('ingest and export states of one file have distinct names and refuse each other', async () => {
    const dir = tmp();
    const target = join(dir, 'data.jsonl');
    const file = ingestStateFile(target);
    expect(file.path).not.toBe(exportStateFile(target).path);
    await file.write(stateFor(shape));
    // An export state under the ingest name (e.g. written by hand) is not taken for an ingest one.
    writeFileSync(file.path, JSON.stringify({ version: 1, kind: 'synap-export', next_page: 2 }));
    await expect(file.read()).rejects.toThrow(/ingest state file .* is not readable/);
  });
});

describe('the request shape of a run', () => {
  const session = {
    defaults: {},
    profile: 'default',
    stateUrl: 'http://127.0.0.1:1',
    client: {} as Session['client'],
  };
  // The shape a run without optional flags has always saved, and its hash (state files and
  // the ledger's finished inputs written by earlier versions must still match).
  const bare = {
    base_url: 'http://127.0.0.1:1',
    profile: 'default',
    format: null,
    map: {},
    document_type: null,
    mode: null,
    user_id: null,
    customer_id: null,
    metadata: {},
    id_from: 'hash',
  };
  const BARE_HASH = '59cafac9480be8f84b81e9cdab74bf5dc53c179658fca5f38162e6d898988e82';

  it('has no key for a flag not given, whether the flag is absent, undefined or false', () => {
    const unset: IngestFlags = {
      format: undefined,
      createdAt: undefined,
      channels: undefined,
      includePrivate: false,
      failures: undefined,
      maxErrors: undefined,
      maxDuration: undefined,
      show: undefined,
      waitTimeout: undefined,
      scope: undefined,
      timezone: undefined,
    };
    for (const flags of [{}, unset]) {
      const shape = requestShape(ingestRunOptions(flags, session));
      expect(shape).toStrictEqual(bare);
      expect(hashShape(shape)).toBe(BARE_HASH);
      expect(hashMapping(shape)).toBe(hashMapping(bare as RequestShape));
    }
  });

  it('has a key for each such flag given, so their hashes differ from the bare one', () => {
    for (const flags of [
      { createdAt: '2024-01-01T00:00:00Z' },
      { channels: ['general'] },
      { includePrivate: true },
      { scope: { team: 'a' } },
      { timezone: 'Europe/Paris' },
      { format: 'csv' as const },
    ] as IngestFlags[]) {
      expect(hashShape(requestShape(ingestRunOptions(flags, session)))).not.toBe(BARE_HASH);
    }
  });
});
