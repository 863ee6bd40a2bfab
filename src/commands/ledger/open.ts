import { UsageError } from '../../errors.js';
import type { Session } from '../../session.js';

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
