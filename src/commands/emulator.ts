import { InvalidArgumentError, Option, type Command } from 'commander';
import {
  DEFAULT_SCOPE_LEVELS,
  defaultEmulatorDbPath,
  FAULT_NAMES,
  FAULTS,
  isExposed,
  ISOLATIONS,
  networkAddresses,
  parseFaultFlag,
  startEmulator,
  type EmulatorFaults,
  type EmulatorIsolation,
  type EmulatorTier,
} from '../emulator/index.js';
import { resolveRateLimit } from '../emulator/rate-limiter.js';
import { UsageError } from '../errors.js';
import { globalOptions } from '../global-options.js';
import { printEmulatorBanner, printEmulatorStopped } from '../output/emulator-banner.js';

interface EmulatorCommandOptions {
  port: number;
  host: string;
  db?: string;
  apiKey?: string;
  tier: EmulatorTier;
  rpm?: number;
  burst?: number;
  rateHeaders: boolean;
  processingDelay: number;
  seed?: number;
  isolation: EmulatorIsolation;
  scoping?: string[] | true;
  [fault: string]: unknown;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw.trim()))
      throw new InvalidArgumentError(`expected an integer, got '${raw}'`);
    const value = Number(raw);
    if (value < min || value > max) {
      throw new InvalidArgumentError(`expected a number between ${min} and ${max}, got ${value}`);
    }
    return value;
  };
}

function scopeLevels(raw: string): string[] {
  const levels = raw.split(',').map((l) => l.trim());
  if (levels.some((l) => !/^[A-Za-z0-9_-]+$/.test(l)) || new Set(levels).size !== levels.length) {
    throw new InvalidArgumentError(
      `expected distinct level names, top first, e.g. customer,team,user; got '${raw}'`,
    );
  }
  return levels;
}

/** One flag per row of the fault table (src/emulator/faults.ts), parsed by its kind. */
function faultOptions(): { name: (typeof FAULT_NAMES)[number]; option: Option }[] {
  return FAULT_NAMES.map((name) => {
    const option = new Option(FAULTS[name].flag, FAULTS[name].description).argParser(
      (raw: string) => {
        try {
          return parseFaultFlag(name, raw);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      },
    );
    return { name, option };
  });
}

/** Adds the 'emulator' command to the program. */
export function register(program: Command): void {
  const faults = faultOptions();
  const command = program
    .command('emulator')
    .summary('run a local Synap-compatible server (SQLite) for trying and testing')
    .description(
      'run a local Synap-compatible server backed by SQLite: a development tool for trying synap, ' +
        'testing scripts and rehearsing migrations without an account; not for production data',
    )
    .addOption(
      new Option('--port <n>', 'port to listen on (0 = any free port)')
        .default(8787)
        .argParser(integer(0, 65535)),
    )
    .option('--host <addr>', 'interface to bind (keep loopback unless you know why)', '127.0.0.1')
    .option('--db <path>', "SQLite database file, or ':memory:' (default: in the user data dir)")
    .option(
      '--api-key <key>',
      'accept this API key (added to the database); default: the stored one, created on first start',
    )
    .addOption(
      new Option(
        '--tier <tier>',
        'rate-limit tier of every key (free 60/min burst 10, pro 600/min burst 50)',
      )
        .choices(['free', 'pro', 'unlimited'])
        .default('free'),
    )
    .addOption(
      new Option('--rpm <n>', 'requests per minute per key (overrides the tier)').argParser(
        integer(1),
      ),
    )
    .addOption(
      new Option('--burst <n>', 'token-bucket capacity per key (overrides the tier)').argParser(
        integer(1),
      ),
    )
    .option(
      '--no-rate-headers',
      'omit X-RateLimit-* headers (for clients that must learn the limit)',
    )
    .addOption(
      new Option('--processing-delay <ms>', 'time from queued to completed (0 = at once)')
        .default(300)
        .argParser(integer(0)),
    )
    .addOption(
      new Option(
        '--isolation <mode>',
        "whoami's user_context_isolation: strict (B2B) or equals_customer (B2C: customer_id refused)",
      )
        .choices([...ISOLATIONS])
        .default('strict'),
    )
    .addOption(
      new Option(
        '--scoping [levels]',
        `nested scoping: the scope ladder, top first (default ${DEFAULT_SCOPE_LEVELS.join(',')}); without it a write carrying scope is refused`,
      ).argParser(scopeLevels),
    );
  for (const { option } of faults) command.addOption(option);
  command
    .addOption(
      new Option('--seed <n>', 'seed for fault injection and jitter (repeatable drills)').argParser(
        integer(0),
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ synap emulator                         start on :8787, print the URL and key
  $ synap emulator --port 0 --db :memory: --tier unlimited --processing-delay 0
  # a flaky service (same faults each run with --seed); slow spells, 429 storms
  $ synap emulator --tier free --fail-rate 0.05 --reset-rate 0.01 --seed 7
  $ synap emulator --spike-rate 0.02 --spike-ms 3000 --storm-rate 0.01
  # a trial that runs out; a B2C instance with teams; an older deployment
  $ synap emulator --credits 500 --credit-stop trial_limit_reached
  $ synap emulator --isolation equals_customer --scoping customer,team,user
  $ synap emulator --error-format error-object --absent-routes list,credits`,
    )
    .action(async (opts: EmulatorCommandOptions, cmd: Command) => {
      const globals = globalOptions(cmd);
      const faultValues: Record<string, unknown> = {};
      for (const { name, option } of faults) {
        const value = opts[option.attributeName()];
        if (value !== undefined) faultValues[name] = value;
      }
      let emulator;
      try {
        emulator = await startEmulator({
          host: opts.host,
          port: opts.port,
          db: opts.db ?? defaultEmulatorDbPath(),
          apiKey: opts.apiKey,
          tier: opts.tier,
          rpm: opts.rpm,
          burst: opts.burst,
          rateHeaders: opts.rateHeaders,
          processingDelayMs: opts.processingDelay,
          seed: opts.seed,
          isolation: opts.isolation,
          scopeLevels: opts.scoping === true ? DEFAULT_SCOPE_LEVELS : opts.scoping,
          ...(faultValues as EmulatorFaults),
        });
      } catch (err) {
        throw listenError(err, opts.host, opts.port);
      }
      const limits = resolveRateLimit(opts.tier, opts.rpm, opts.burst);
      const exposed = isExposed(opts.host);
      printEmulatorBanner(
        {
          url: emulator.url,
          apiKey: emulator.apiKey,
          db: emulator.db,
          tier: limits.rpm === undefined ? 'unlimited' : opts.tier,
          rpm: limits.rpm ?? null,
          burst: limits.rpm === undefined ? null : limits.burst,
          processingDelayMs: opts.processingDelay,
          exposed,
          networkUrls: exposed ? reachableUrls(opts.host, emulator.port) : [],
        },
        { json: globals.json },
      );
      // Runs until Ctrl-C or SIGTERM; stopping the server is the normal way to end, so exit 0.
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await emulator.close();
      printEmulatorStopped({ quiet: globals.quiet || globals.json });
    });
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
