import { CliError, ExitCode, UsageError, WriteFailedError } from '../errors.js';
import { userStateDir } from '../ingest/run-files.js';
import type { Ledger } from '../ledger/ledger.js';
import { hashNamedBy, type LedgerView } from '../ledger/verdict.js';
import type { CreateMemoryRequest } from '../client/types.js';
import type { Session } from '../session.js';

/** The ledger of a run's instance, and how to close it when the run is over. */
export interface RunLedger {
  view: LedgerView;
  path: string;
  close(): void;
}

/**
 * Opens the ledger for the instance the session's key belongs to (whoami, asked before: see
 * ingest-preflight.ts), for `synap ingest` and `synap migrate`. None with `--resend`, or when
 * the instance is not known (a dry run without a key, a server without whoami): then every
 * record is sent, as before there was a ledger. Loads better-sqlite3 (only here).
 */
export async function openRunLedger(
  session: Pick<Session, 'client'>,
  o: { resend: boolean },
): Promise<RunLedger | undefined> {
  if (o.resend) return undefined;
  const instanceId = session.client.identity?.instanceId;
  if (!instanceId) return undefined;
  const ledger = await openLedger(
    'Set XDG_STATE_HOME to a directory you can write, or add --resend to send every record without the ledger.',
  );
  return { view: ledger.instance(instanceId), path: ledger.path, close: () => ledger.close() };
}

/** Opens the ledger in the state directory (loads better-sqlite3); `hint`: what to do if it fails. */
export async function openLedger(
  hint = 'Set XDG_STATE_HOME to a directory you can write.',
): Promise<Ledger> {
  const { Ledger: Opener } = await import('../ledger/ledger.js');
  const dir = userStateDir();
  try {
    return Opener.open(dir);
  } catch (err) {
    throw ledgerOpenError(dir, err, [hint]);
  }
}

/**
 * For the pre-flight's credit estimate: how many documents of an input the instance holds as
 * they are, by what the ledger remembers of the input finished (ledger/finished.ts), read with
 * the options whose hash `optionsHash` gives; 0 when it remembers nothing that still holds, or
 * the ledger cannot be read (the estimate is then of every record, as the run will say).
 */
export function heldByLedger(
  session: Pick<Session, 'client'>,
  optionsHash: () => Promise<string>,
): (input: string, size: number) => Promise<number> {
  return async (input, size) => {
    const ledger = await openRunLedger(session, { resend: false }).catch(() => undefined);
    if (!ledger) return 0;
    try {
      const { heldPrefix } = await import('../ledger/finished.js');
      const held = await heldPrefix(ledger.view, {
        path: input,
        size,
        options_hash: await optionsHash(),
      });
      return held.documents;
    } finally {
      ledger.close();
    }
  };
}

/**
 * Why the ledger could not be opened: another process holding it throughout the wait or a state
 * directory or file that cannot be written (exit 1, as for the state files), or a file that is
 * no ledger (exit 2).
 */
export function ledgerOpenError(dir: string, err: unknown, hints: string[]): Error {
  const e = err as NodeJS.ErrnoException;
  // Another process held the file for the whole wait (ledger.ts's LedgerBusyError, named here
  // so that this module does not load SQLite): a failure to try again, not a usage error.
  if (e.name === 'LedgerBusyError') {
    return new CliError(e.message, {
      exitCode: ExitCode.FAILURE,
      hints: ['Run it again when the other synap process is done with it.'],
      cause: err,
    });
  }
  if (typeof e.code === 'string' && e.syscall) {
    return new WriteFailedError(dir, 'the state directory', err, { hints });
  }
  return new UsageError(`cannot open the ledger of what instances hold in ${dir}: ${e.message}`, {
    hints,
  });
}

/**
 * The target's ledger for `synap migrate --from A --to B`. Migrate rebuilds each source document
 * from its memories, so the body it sends is not the body the job that fed A sent; recording its
 * hash would make that job, pointed at B, see every document as changed. What B is recorded to
 * hold for a document is therefore what A holds for it: A's ledger entry on this machine (the
 * hash of the body the job sent), else the hash a `--id-from hash` id names, else null (held,
 * body unknown, as after `ledger rebuild`). A second migrate compares the same entries, so it
 * sends only documents whose entry in A changed since (a job updated them in A).
 */
export async function openMigrateLedger(
  from: Pick<Session, 'client'>,
  to: Pick<Session, 'client'>,
  o: { resend: boolean },
): Promise<RunLedger | undefined> {
  const target = await openRunLedger(to, o);
  const sourceId = from.client.identity?.instanceId;
  if (!target) return undefined;
  const { Ledger: Opener } = await import('../ledger/ledger.js');
  // The same file, a second connection: SQLite serialises the two (busy_timeout).
  const ledger = Opener.open(userStateDir());
  const source = sourceId ? ledger.instance(sourceId) : undefined;
  const view: LedgerView = {
    instanceId: target.view.instanceId,
    lookup: (id) => target.view.lookup(id),
    prefetch(ids) {
      target.view.prefetch?.(ids);
      source?.prefetch(ids);
    },
    recordMany: (entries) => target.view.recordMany(entries),
    refused: (id) => target.view.refused?.(id),
    recordRefused: (entries) => target.view.recordRefused?.(entries),
    hashOf(request: CreateMemoryRequest) {
      const id = request.document_id;
      if (typeof id !== 'string') return null;
      const held = source?.lookup(id);
      if (held !== undefined) return held;
      return hashNamedBy(id);
    },
  };
  return {
    view,
    path: target.path,
    close: () => {
      ledger.close();
      target.close();
    },
  };
}
