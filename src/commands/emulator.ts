import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { EmulatorFaults } from '../emulator/faults/table.js';
import { networkAddresses } from '../emulator/host.js';
import { DEFAULT_SCOPE_LEVELS } from '../emulator/types.js';
import { UsageError } from '../errors.js';
import { pidAlive } from '../ingest/lock.js';
import type { EmulatorBannerInfo } from '../output/emulator-banner.js';
import { declareEmulatorOptions, faults, type EmulatorCommandOptions } from './emulator-options.js';
import type { CommandSpec } from './run.js';

/** Resolves once Ctrl-C or SIGTERM arrives: stopping the server is the normal way to end (exit 0). */
function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** `synap emulator`: a local Synap-compatible server, running until Ctrl-C. */
export const emulatorCommand: CommandSpec<EmulatorCommandOptions, [], EmulatorBannerInfo> = {
  declare: declareEmulatorOptions,

  async run(_ctx, opts) {
    // Faults not given are undefined, which startEmulator leaves out.
    const faultValues = Object.fromEntries(
      faults.map(({ name, option }) => [name, opts[option.attributeName()]]),
    ) as EmulatorFaults;
    const { defaultEmulatorDbPath, isExposed, startEmulator } =
      await import('../emulator/index.js');
    const { exposedWarning, sharedDatabaseWarning } = await import('../output/emulator-banner.js');
    const emulator = await startEmulator({
      host: opts.host,
      port: opts.port,
      db: opts.db ?? defaultEmulatorDbPath(),
      apiKey: opts.apiKey,
      tier: opts.tier,
      rpm: opts.rpm,
      burst: opts.burst,
      rateHeaders: opts.rateHeaders,
      limiter: opts.limiter,
      processingDelayMs: opts.processingDelay,
      seed: opts.seed,
      isolation: opts.isolation,
      scopeLevels: opts.scoping === true ? DEFAULT_SCOPE_LEVELS : opts.scoping,
      ...faultValues,
    }).catch((err: unknown) => {
      throw listenError(err, opts.host, opts.port);
    });
    const claim = claimDatabase(emulator.db, emulator.url);
    const exposed = isExposed(opts.host);
    const result: EmulatorBannerInfo = {
      url: emulator.url,
      // The one place an API key is printed on purpose: a local, throwaway key to copy.
      api_key: emulator.apiKey,
      db: emulator.db,
      ...emulator.plan,
      processing_delay_ms: opts.processingDelay,
      ...(exposed ? { network_urls: reachableUrls(opts.host, emulator.port) } : {}),
    };
    // Listening for Ctrl-C from now on: one pressed as soon as the banner shows stops cleanly too.
    const stopped = untilStopped();
    return {
      result,
      warnings: [
        ...(claim.other ? [sharedDatabaseWarning(emulator.db, claim.other)] : []),
        ...(exposed ? [exposedWarning(result)] : []),
      ],
      until: async () => {
        await stopped;
        claim.release();
        await emulator.close();
      },
    };
  },

  render: async (info) => (await import('../output/emulator-banner.js')).printEmulatorBanner(info),
  renderEnd: async (_result, view) =>
    (await import('../output/emulator-banner.js')).printEmulatorStopped(view),
};

/**
 * Marks `db` as served by this process (`<db>.emulator.json`: pid and URL), and says which
 * other live emulator already serves it: two servers on one database share its key and its
 * data without knowing it. A mark whose process is gone is taken over. In-memory databases
 * are nobody else's.
 */
function claimDatabase(
  db: string,
  url: string,
): { other?: { url: string; pid: number }; release(): void } {
  if (db === ':memory:') return { release() {} };
  const mark = `${db}.emulator.json`;
  let other: { url: string; pid: number } | undefined;
  try {
    const found = JSON.parse(readFileSync(mark, 'utf8')) as { url?: unknown; pid?: unknown };
    if (typeof found.pid === 'number' && typeof found.url === 'string' && pidAlive(found.pid)) {
      other = { url: found.url, pid: found.pid };
    }
  } catch {
    // No mark, or not one we can read: nobody else is known to serve it.
  }
  if (other === undefined) {
    try {
      writeFileSync(mark, JSON.stringify({ pid: process.pid, url }));
    } catch {
      // A database in a read-only place: the warning is a courtesy, the server runs anyway.
    }
  }
  return {
    other,
    release() {
      if (other !== undefined) return;
      try {
        const found = JSON.parse(readFileSync(mark, 'utf8')) as { pid?: unknown };
        if (found.pid === process.pid) rmSync(mark, { force: true });
      } catch {
        // Gone already.
      }
    },
  };
}

/** The URLs another machine can use: every interface address for a wildcard bind. */
function reachableUrls(host: string, port: number): string[] {
  const wildcard = host === '0.0.0.0' || host === '::';
  const addresses = wildcard ? networkAddresses(host === '0.0.0.0' ? 'IPv4' : 'any') : [host];
  return addresses.map((a) => `http://${a.includes(':') ? `[${a}]` : a}:${port}`);
}

/** A port in use or an address that cannot be bound is the user's to fix: one line, exit 2. */
function listenError(err: unknown, host: string, port: number): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new UsageError(
      `port ${port} is already in use on ${host}; pick another with --port (0 = any free port)`,
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EACCES' || code === 'ENOTFOUND') {
    return new UsageError(`cannot listen on ${host}:${port} (${code})`);
  }
  if (err instanceof RangeError) return new UsageError(err.message);
  return err;
}
