import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { WriteFailedError } from '../errors.js';
import { userStateDir } from '../ingest/run-files.js';
import { makeDirsSync } from '../make-dirs.js';
import type { ExportShape } from './state.js';

/**
 * What a finished `export -o FILE` leaves in the state directory (`exports/<hash of FILE's
 * path>.json`, so backup folders hold only backups): whose export FILE is and the size and
 * modification time FILE had when it was put in place. The next
 * export to FILE replaces a file that still matches it (last night's backup of the same
 * instance) without --force; a file that does not (edited, or someone else's) needs --force.
 */
export interface ExportDone {
  version: 1;
  kind: 'synap-export-done';
  /** whoami's instance_id; null when the server has no whoami. */
  instance_id: string | null;
  base_url: string;
  shape: ExportShape;
  lines: number;
  bytes: number;
  mtime_ms: number;
  finished_at: string;
}

/** The done record of the export to `output` (an absolute path). */
export function donePathFor(output: string): string {
  let dir = dirname(output);
  try {
    dir = realpathSync(dir);
  } catch {
    // A directory that does not exist (yet): its name as given.
  }
  const key = createHash('sha256')
    .update(join(dir, basename(output)))
    .digest('hex')
    .slice(0, 32);
  return join(userStateDir(), 'exports', `${key}.json`);
}

/** The done record beside `output`, or undefined (none, or not one of ours). */
async function readDoneRecord(output: string): Promise<ExportDone | undefined> {
  try {
    const text = await readFile(donePathFor(output), 'utf8');
    const d = JSON.parse(text) as Partial<ExportDone> | null;
    const ours =
      d?.kind === 'synap-export-done' &&
      d.version === 1 &&
      typeof d.bytes === 'number' &&
      typeof d.mtime_ms === 'number';
    return ours ? (d as ExportDone) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when `output` is, unchanged, a finished export of the same instance: the done record
 * names it (by instance_id when both sides know one, else by base URL) and the file still has
 * the size and modification time recorded when it was put in place.
 */
export async function isOwnFinishedExport(
  output: string,
  who: { instanceId: string | null; baseUrl: string },
): Promise<boolean> {
  const done = await readDoneRecord(output);
  if (!done) return false;
  const same =
    done.instance_id !== null && who.instanceId !== null
      ? done.instance_id === who.instanceId
      : done.instance_id === null && who.instanceId === null && done.base_url === who.baseUrl;
  if (!same) return false;
  try {
    const info = await stat(output);
    return info.isFile() && info.size === done.bytes && info.mtimeMs === done.mtime_ms;
  } catch {
    return false;
  }
}

export async function writeDoneRecord(output: string, done: ExportDone): Promise<void> {
  const path = donePathFor(output);
  try {
    makeDirsSync(dirname(path), 0o700);
    await writeFileAtomic(path, `${JSON.stringify(done, null, 2)}\n`);
  } catch (err) {
    throw new WriteFailedError(path, 'the export done record', err, {
      resumable: true,
      hints: ['Make room, then run the same command again to finish the export.'],
    });
  }
}

export async function removeDoneRecord(output: string): Promise<void> {
  await rm(donePathFor(output), { force: true });
}
