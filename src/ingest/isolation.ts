import { UsageError } from '../errors.js';
import { B2B_ISOLATION, B2C_ISOLATION } from '../client/types.js';
import { isTabular } from './formats/index.js';
import type { SourceRecord } from './source-record.js';
import { isPlainObject } from '../json-value.js';
import type { RecordError } from './validate.js';

/**
 * Which ids an instance accepts on writes, from whoami's user_context_isolation:
 * - B2C (`equals_customer`) files everything under user_id and refuses customer_id. A run
 *   that would send customer ids throughout (a flag, a mapped or named column) stops up front;
 *   otherwise a record that carries one fails alone. A customer id is never dropped silently.
 * - B2B (`strict`) files a user under its customer: a record with a user_id and no customer_id
 *   (and no scope path) fails alone, since the service would refuse it.
 * The service refuses these documents itself; the run refuses them first and sends nothing
 * for them.
 */
export interface InstanceRules {
  /** The instance id, for messages (empty when whoami did not say). */
  instanceId: string;
  isolation: 'b2c' | 'b2b';
}

/** The rules to apply, from whoami's answer; undefined for another isolation or none. */
export function instanceRules(
  identity: { instanceId: string; userContextIsolation: string | undefined } | undefined,
): InstanceRules | undefined {
  const said = identity?.userContextIsolation;
  const isolation = said === B2C_ISOLATION ? 'b2c' : said === B2B_ISOLATION ? 'b2b' : undefined;
  return identity && isolation ? { instanceId: identity.instanceId, isolation } : undefined;
}

/** A record's user_id with no customer_id on a B2B instance: it fails, and says what to add. */
export function customerIdRequired(rules: InstanceRules, userId: string): RecordError {
  return {
    code: 'CUSTOMER_ID_REQUIRED',
    field: 'customer_id',
    message:
      `user_id ${JSON.stringify(userId)} not sent without a customer_id: this instance${rules.instanceId ? ` (${rules.instanceId})` : ''} ` +
      `is B2B (user_context_isolation=${B2B_ISOLATION}), where a user belongs to a customer; ` +
      'give the customer (a customer_id field, --map customer_id=…, --customer-id) or leave out user_id for a client-wide memory',
  };
}

function instanceText(b2c: InstanceRules): string {
  return `this instance${b2c.instanceId ? ` (${b2c.instanceId})` : ''} is B2C (user_context_isolation=${B2C_ISOLATION}) and refuses customer_id`;
}

const USER_ONLY = 'user_id is the whole identity on a B2C instance: send user_id only.';

/** The per-record refusal of a record that carries a customer_id. */
export function customerIdRefusal(b2c: InstanceRules, customerId: string): RecordError {
  return {
    code: 'CUSTOMER_ID_NOT_ACCEPTED',
    field: 'customer_id',
    message: `customer_id ${JSON.stringify(customerId)} not sent: ${instanceText(b2c)}`,
  };
}

/** `--customer-id` or `--map customer_id=…` on a B2C instance: exit 2 before anything is sent. */
export function checkB2cFlags(
  b2c: InstanceRules | undefined,
  flags: { customerId?: string; map?: Readonly<Record<string, string>> },
): void {
  if (b2c?.isolation !== 'b2c') return;
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
  b2c: InstanceRules,
  records: readonly SourceRecord[],
  source: string,
): UsageError | undefined {
  if (b2c.isolation !== 'b2c') return undefined;
  for (const r of records) {
    if (!isTabular(r.format) || !isPlainObject(r.value)) continue;
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
