import { UsageError } from '../errors.js';
import { B2C_ISOLATION } from '../client/types.js';
import type { SourceRecord } from './source-record.js';
import { isPlainObject, type RecordError } from './validate.js';

/**
 * A B2C instance (whoami's user_context_isolation is `equals_customer`) files everything under
 * user_id and refuses customer_id on writes. The service would refuse each such document; the
 * run refuses them first: up front when the whole run would send customer ids (a flag, a
 * mapped or named column), else record by record. A customer id is never dropped silently.
 */
export interface B2cInstance {
  /** The instance id, for messages (empty when whoami did not say). */
  instanceId: string;
}

/** The B2C rules to apply, from whoami's answer; undefined for any other isolation or none. */
export function b2cInstance(
  identity: { instanceId: string; userContextIsolation: string | undefined } | undefined,
): B2cInstance | undefined {
  return identity?.userContextIsolation === B2C_ISOLATION
    ? { instanceId: identity.instanceId }
    : undefined;
}

function instanceText(b2c: B2cInstance): string {
  return `this instance${b2c.instanceId ? ` (${b2c.instanceId})` : ''} is B2C (user_context_isolation=${B2C_ISOLATION}) and refuses customer_id`;
}

const USER_ONLY = 'user_id is the whole identity on a B2C instance: send user_id only.';

/** The per-record refusal of a record that carries a customer_id. */
export function customerIdRefusal(b2c: B2cInstance, customerId: string): RecordError {
  return {
    code: 'CUSTOMER_ID_NOT_ACCEPTED',
    field: 'customer_id',
    message: `customer_id ${JSON.stringify(customerId)} not sent: ${instanceText(b2c)}`,
  };
}

/** `--customer-id` or `--map customer_id=…` on a B2C instance: exit 2 before anything is sent. */
export function checkB2cFlags(
  b2c: B2cInstance | undefined,
  flags: { customerId?: string; map?: Readonly<Record<string, string>> },
): void {
  if (!b2c) return;
  if (flags.customerId !== undefined) {
    throw new UsageError(`--customer-id ${flags.customerId}: ${instanceText(b2c)}`, {
      hints: [`Leave out --customer-id; ${USER_ONLY}`],
    });
  }
  const mapped = flags.map?.customer_id;
  if (mapped !== undefined) {
    throw new UsageError(
      `--map customer_id=${mapped}: the column "${mapped}" would supply customer ids, and ${instanceText(b2c)}`,
      { hints: [`Leave out --map customer_id=${mapped}; ${USER_ONLY}`] },
    );
  }
}

/**
 * A CSV/TSV input whose header names customer_id, with a value in at least one of the first
 * rows: the column would send customer ids all through the run, so it stops (exit 2) naming
 * the column. Other records (JSON) carry their fields one by one and fail alone.
 */
export function findCustomerIdColumn(
  b2c: B2cInstance,
  records: readonly SourceRecord[],
  source: string,
): UsageError | undefined {
  for (const r of records) {
    if (r.format !== 'csv' && r.format !== 'tsv') continue;
    if (!isPlainObject(r.value)) continue;
    const v = r.value.customer_id;
    if (typeof v === 'string' && v.trim() !== '') {
      return new UsageError(
        `${source}: the column "customer_id" supplies customer ids (line ${r.line}: ${JSON.stringify(v)}), and ${instanceText(b2c)}`,
        {
          hints: [
            `Remove the customer_id column (or rename it, and it goes into metadata); ${USER_ONLY}`,
          ],
        },
      );
    }
  }
  return undefined;
}
