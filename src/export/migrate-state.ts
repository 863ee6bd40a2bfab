import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { freshIngestState, hashShape, ingestStateFile } from '../ingest/checkpointer.js';
import { FailuresFile } from '../ingest/failures-file.js';
import { acquireLock, type IngestLock } from '../ingest/lock.js';
import { requestShape, type IngestRunOptions, type RecordsState } from '../ingest/options.js';
import { privateDir, userStateDir } from '../ingest/run-files.js';
import { hashOptions } from '../state-file.js';
import { SentLog } from './sent-log.js';

/**
 * Where a migration keeps its progress between runs: the ingest's state (how many records are
 * settled, the counts, the failures file) and the log of what was sent (sent-log.ts), both in
 * the user's state directory under a name made from what identifies the migration: the two
 * instances (whoami's instance_id, else the base URL), the filters and the page size (record
 * lines are positions in pages of that size). The next run with the same options continues
 * after the last settled record; other ingest options are refused until --restart.
 */
export interface MigrateStateOptions {
  from: { instanceId: string; baseUrl: string };
  to: { instanceId: string; baseUrl: string };
  pageSize: number;
  userId: string | null;
  customerId: string | null;
  /** The records' name (e.g. "export of profile staging"). */
  name: string;
  runOptions: IngestRunOptions;
  restart: boolean;
  /** --failures, when given. */
  explicitFailures: string | undefined;
  /** The target profile (named to a second run that finds the lock taken). */
  profile: string;
  /** Wait for a running migration of the same pair instead of stopping (--wait-lock). */
  waitLock: boolean;
  /** Ends a wait for the lock (Ctrl-C while --wait-lock waits). */
  signal?: AbortSignal;
}

export interface MigrateState {
  recordsState: RecordsState;
  sentPath: string;
  /** Records on lines up to this are settled (0: a fresh start). */
  settledLine: number;
  /** Held until the migration ends: a second run of the same migration stops (exit 5). */
  lock: IngestLock;
}

export async function openMigrateState(o: MigrateStateOptions): Promise<MigrateState> {
  const identity = {
    from: o.from.instanceId || o.from.baseUrl,
    to: o.to.instanceId || o.to.baseUrl,
    page_size: o.pageSize,
    user_id: o.userId,
    customer_id: o.customerId,
  };
  const key = hashOptions(identity).slice(0, 16);
  const dir = await privateDir(userStateDir());
  const statePath = join(dir, `migrate-${key}.synap-state.json`);
  const sentPath = join(dir, `migrate-${key}.synap-sent`);
  const lock = await acquireLock(join(dir, `migrate-${key}.synap-lock`), {
    profile: o.profile,
    wait: o.waitLock,
    signal: o.signal,
  });
  try {
    return await openLocked(o, { key, statePath, sentPath, lock });
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function openLocked(
  o: MigrateStateOptions,
  at: { key: string; statePath: string; sentPath: string; lock: IngestLock },
): Promise<MigrateState> {
  const { key, statePath, sentPath, lock } = at;
  const file = ingestStateFile(o.name, statePath);
  const shape = requestShape(o.runOptions);
  const ownsFailures = o.explicitFailures === undefined;
  const saved = o.restart ? undefined : await file.read();
  let state;
  if (saved) {
    if (saved.options_hash !== hashShape(shape)) {
      throw new UsageError(
        `the options differ from the stopped migration recorded in ${statePath}`,
        {
          hints: [
            'Re-run with the same options to continue it, or add --restart to start over ' +
              '(memories already copied come back as skipped).',
          ],
        },
      );
    }
    if (o.explicitFailures !== undefined) saved.failures_file = resolve(o.explicitFailures);
    if (ownsFailures && saved.failures_file && saved.failures_bytes !== undefined) {
      await FailuresFile.cutBack(saved.failures_file, saved.failures_bytes);
    }
    if (!ownsFailures) delete saved.failures_bytes;
    // Every record of a migration has a line of its own, so all records up to the watermark's
    // line are settled: reading starts right after it and nothing read is skipped by count
    // (what lies after it may have shifted since, and must be sent, not taken as settled).
    saved.resume_from = {
      records: saved.settled_records,
      line: saved.watermark_line,
      seek: null,
    };
    state = saved;
  } else {
    SentLog.remove(sentPath);
    state = freshIngestState(
      file,
      { path: o.name, size: 0, fingerprint: key, mtimeMs: 0 },
      shape,
      resolve(o.explicitFailures ?? 'synap-ingest.failures.jsonl'),
      Date.now(),
    );
  }
  return {
    recordsState: { file, state, ownsFailures, onComplete: async () => SentLog.remove(sentPath) },
    sentPath,
    settledLine: saved?.watermark_line ?? 0,
    lock,
  };
}
