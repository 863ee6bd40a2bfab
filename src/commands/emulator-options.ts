import { InvalidArgumentError, Option, type Command } from 'commander';
import { FAULT_NAMES, FAULTS, parseFaultFlag } from '../emulator/faults/table.js';
import { DEFAULT_SCOPE_LEVELS, ISOLATIONS, type EmulatorOptions } from '../emulator/types.js';
import { UsageError } from '../errors.js';
import { integer } from './flags.js';

/** The options of `synap emulator`, as commander gives them (faults by their attribute name). */
export interface EmulatorCommandOptions
  extends
    Pick<EmulatorOptions, 'db' | 'apiKey' | 'rpm' | 'burst' | 'seed'>,
    Required<
      Pick<EmulatorOptions, 'port' | 'host' | 'tier' | 'rateHeaders' | 'limiter' | 'isolation'>
    > {
  processingDelay: number;
  scoping?: string[] | true;
  [fault: string]: unknown;
}

function scopeLevels(raw: string): string[] {
  const levels = raw.split(',').map((l) => l.trim());
  if (levels.some((l) => !/^[A-Za-z0-9_-]+$/.test(l)) || new Set(levels).size !== levels.length) {
    throw new UsageError(
      `--scoping must be distinct level names, top first, e.g. customer,team,user (got "${raw}")`,
    );
  }
  return levels;
}

/** The fault flags, one per row of src/emulator/faults/table.ts, each parsed by its kind. */
export const faults = FAULT_NAMES.map((name) => {
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

/** Declares the options and help of `synap emulator`. */
export function declareEmulatorOptions(cmd: Command): Command {
  const command = cmd
    .description(
      'run a local Synap-compatible server backed by SQLite: a development tool for trying synap, ' +
        'testing scripts and rehearsing migrations without an account; not for production data',
    )
    .addOption(
      new Option('--port <n>', 'port to listen on (0 = any free port)')
        .default(8787)
        .argParser(integer('--port', 0, 65535)),
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
        integer('--rpm', 1),
      ),
    )
    .addOption(
      new Option('--burst <n>', 'token-bucket capacity per key (overrides the tier)').argParser(
        integer('--burst', 1),
      ),
    )
    .addOption(
      new Option(
        '--limiter <kind>',
        'count the limit as a token bucket (--rpm refill, --burst size) or a fixed one-minute window of --rpm requests',
      )
        .choices(['bucket', 'window'])
        .default('bucket'),
    )
    .option(
      '--no-rate-headers',
      'omit X-RateLimit-* headers (for clients that must learn the limit)',
    )
    .addOption(
      new Option('--processing-delay <ms>', 'time from queued to completed (0 = at once)')
        .default(300)
        .argParser(integer('--processing-delay', 0)),
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
        integer('--seed', 0),
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
    );
  return command;
}
