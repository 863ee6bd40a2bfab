import { UsageError } from '../../errors.js';
import { userStateDir } from '../../ingest/run-files.js';
import { ledgerOpenError } from '../ingest-ledger.js';
import type { Ledger } from '../../ledger/ledger.js';
import type { Session } from '../../session.js';

/** Opens the ledger in the state directory (loads better-sqlite3). */
export async function openLedger(): Promise<Ledger> {
  const { Ledger: L } = await import('../../ledger/ledger.js');
  const dir = userStateDir();
  try {
    return L.open(dir);
  } catch (err) {
    throw ledgerOpenError(dir, err, ['Set XDG_STATE_HOME to a directory you can write.']);
  }
}

/** The instance the session's key belongs to (whoami); a server that does not say is an error. */
export async function keyInstance(session: Pick<Session, 'client'>): Promise<string> {
  const identity = await session.client.identify();
  if (!identity?.instanceId) {
    throw new UsageError(
      'the server did not say which instance this key belongs to (whoami), so there is no ledger to use',
      { hints: ['Name the instance with --instance inst_…'] },
    );
  }
  return identity.instanceId;
}
