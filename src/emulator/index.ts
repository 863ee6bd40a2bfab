import { randomBytes, randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import envPaths from 'env-paths';
import { join } from 'node:path';
import { CreditWallet } from './credits.js';
import { checkFaults, FAULT_NAMES, type EmulatorFaults } from './faults/table.js';
import { EmulatorHandler } from './handler.js';
import { hostAllowed } from './host.js';
import { seededRandom } from './http-util.js';
import { KeyRateLimiter, resolveRateLimit } from './rate-limiter.js';
import { EmulatorStore } from './store.js';
import { systemClock } from '../clock.js';
import { CliError, describeErrno } from '../errors.js';
import { ISOLATIONS, type EmulatorOptions, type RunningEmulator } from './types.js';

export type { EmulatorOptions, RunningEmulator } from './types.js';
export { FAULTS } from './faults/table.js';
export { isExposed, networkAddresses } from './host.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh key in the service's format: `synap_` + 48 random alphanumerics. */
function generateApiKey(): string {
  let out = 'synap_';
  for (let i = 0; i < 48; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** Where `synap emulator` and `--local` keep their database: the user data dir (XDG_DATA_HOME on Linux). */
export function defaultEmulatorDbPath(): string {
  return join(envPaths('synap', { suffix: '' }).data, 'emulator.db');
}

function checkInstanceOptions(opts: EmulatorOptions): void {
  if (opts.isolation !== undefined && !ISOLATIONS.includes(opts.isolation)) {
    throw new RangeError(
      `isolation must be one of ${ISOLATIONS.join(', ')} (got ${opts.isolation})`,
    );
  }
  const levels = opts.scopeLevels;
  if (
    levels !== undefined &&
    (levels.length === 0 ||
      levels.some((l) => !/^[A-Za-z0-9_-]+$/.test(l)) ||
      new Set(levels).size !== levels.length)
  ) {
    throw new RangeError(
      `scopeLevels must be distinct level names, top first (got ${JSON.stringify(levels)})`,
    );
  }
}

/** The emulator's database; a path that cannot hold one is named in a one-line error. */
function openStore(path: string): EmulatorStore {
  try {
    return new EmulatorStore(path);
  } catch (err) {
    // SQLite's own errors (a file that is not a database) say it best in their message.
    const code = (err as { code?: unknown }).code;
    const why =
      typeof code === 'string' && code.startsWith('SQLITE_') && err instanceof Error
        ? err.message
        : describeErrno(err);
    throw new CliError(`cannot open the emulator database ${path}: ${why}`, { cause: err });
  }
}

/**
 * Starts a Synap-compatible server on loopback (port 0 = any free port), backed by SQLite.
 * From code the defaults suit tests: in-memory database, unlimited tier, instant processing.
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  // The faults among the options, as their own object (the handler reads it; setFaults writes it).
  const faults = Object.fromEntries(
    FAULT_NAMES.filter((name) => opts[name] !== undefined).map((name) => [name, opts[name]]),
  ) as EmulatorFaults;
  checkFaults(faults);
  checkInstanceOptions(opts);
  const clock = opts.clock ?? systemClock;
  const store = openStore(opts.db ?? ':memory:');
  try {
    // Identity and the first key are created once and kept, so restarts look like the same instance.
    let clientId = store.getMeta('client_id');
    let instanceId = store.getMeta('instance_id');
    if (!clientId || !instanceId) {
      clientId = `cli_${randomBytes(8).toString('hex')}`;
      instanceId = `inst_${randomBytes(8).toString('hex')}`;
      store.setMeta('client_id', clientId);
      store.setMeta('instance_id', instanceId);
    }
    if (opts.apiKey !== undefined && !/^\S+$/.test(opts.apiKey)) {
      throw new RangeError('apiKey must be a non-empty string without spaces');
    }
    const apiKey = opts.apiKey ?? store.apiKeys()[0] ?? generateApiKey();
    // A key already stored is left as it is (INSERT OR IGNORE): its place in the order stays.
    store.addApiKey(apiKey, clock.now());

    const tier = opts.tier ?? 'unlimited';
    const limits = resolveRateLimit(tier, opts.rpm, opts.burst);
    const plan = {
      tier: limits.rpm === undefined ? 'unlimited' : tier,
      rpm: limits.rpm ?? null,
      burst: limits.rpm === undefined ? null : limits.burst,
    };
    const wallet = new CreditWallet(clientId, clock, faults.credits);
    const host = opts.host ?? '127.0.0.1';
    const handler = new EmulatorHandler({
      store,
      limiter: new KeyRateLimiter({ ...limits, kind: opts.limiter ?? 'bucket' }, clock),
      clock,
      random: opts.seed === undefined ? Math.random : seededRandom(opts.seed),
      faults,
      wallet,
      rateHeaders: opts.rateHeaders ?? true,
      processingDelayMs: Math.max(0, opts.processingDelayMs ?? 0),
      keys: new Set(store.apiKeys()),
      identity: { client_id: clientId, instance_id: instanceId },
      plan,
      instance: {
        isolation: opts.isolation ?? 'strict',
        scopeLevels: opts.scopeLevels ?? null,
      },
      hostAllowed: hostAllowed(host),
    });

    const server = createServer({ keepAlive: true, keepAliveInitialDelay: 1000 }, handler.handle);
    // Long keep-alive so benchmark clients reuse connections instead of reconnecting.
    server.keepAliveTimeout = 65_000;
    server.listen(opts.port ?? 0, host);
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    let closed: Promise<void> | undefined;

    return {
      url: `http://${urlHost}:${port}`,
      apiKey,
      port,
      db: store.path,
      plan,
      stats: () => handler.stats(),
      documents: () => store.documents(),
      setFaults(next: EmulatorFaults) {
        checkFaults(next);
        Object.assign(faults, next);
        if ('credits' in next) wallet.setGrant(next.credits);
      },
      close() {
        closed ??= new Promise<void>((resolve) => {
          server.close(() => {
            store.close();
            resolve();
          });
          server.closeAllConnections();
        });
        return closed;
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}
