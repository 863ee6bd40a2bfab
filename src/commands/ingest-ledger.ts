import { UsageError, WriteFailedError } from '../errors.js';
import { userStateDir } from '../ingest/run-files.js';
import type { Ledger } from '../ledger/ledger.js';
import type { LedgerView } from '../ledger/verdict.js';
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
  o: { resend: boolean; env?: NodeJS.ProcessEnv },
): Promise<RunLedger | undefined> {
  if (o.resend) return undefined;
  const instanceId = session.client.identity?.instanceId;
  if (!instanceId) return undefined;
  const { Ledger: Opener } = await import('../ledger/ledger.js');
  const dir = userStateDir(o.env);
  let ledger: Ledger;
  try {
    ledger = Opener.open(dir);
  } catch (err) {
    throw ledgerOpenError(dir, err, [
      'Set XDG_STATE_HOME to a directory you can write, or add --resend to send every record without the ledger.',
    ]);
  }
  return { view: ledger.instance(instanceId), path: ledger.path, close: () => ledger.close() };
}

/**
 * Why the ledger could not be opened: a state directory or file that cannot be written (exit 1,
 * as for the state files), or a file that is no ledger (exit 2).
 */
export function ledgerOpenError(dir: string, err: unknown, hints: string[]): Error {
  if (
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    (err as NodeJS.ErrnoException).syscall
  ) {
    return new WriteFailedError(dir, 'the state directory', err, { hints });
  }
  return new UsageError(
    `cannot open the ledger of what instances hold in ${dir}: ${(err as Error).message}`,
    { hints },
  );
}
