import { InvalidArgumentError, Option, type Command } from 'commander';
import { defaultEmulatorDbPath, startEmulator, type EmulatorTier } from '../emulator/index.js';
import { resolveRateLimit } from '../emulator/rate-limiter.js';
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
  latency?: number;
  failRate?: number;
  resetRate?: number;
  credits?: number;
  spikeRate?: number;
  spikeMs?: number;
  stormRate?: number;
  stormMs?: number;
  seed?: number;
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

function probability(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError(`expected a probability between 0 and 1, got '${raw}'`);
  }
  return value;
}

/** Adds the 'emulator' command to the program. */
export function register(program: Command): void {
  program
    .command('emulator')
    .summary('run a local Synap-compatible server (SQLite) for trying and testing')
    .description(
      'Run a local Synap-compatible server backed by SQLite. A development tool for trying synap, ' +
        'testing scripts and rehearsing migrations without an account; not for production data.',
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
      new Option('--latency <ms>', 'add this latency (±50% jitter) to every API request').argParser(
        integer(0),
      ),
    )
    .addOption(
      new Option('--fail-rate <p>', 'answer this fraction of API requests with 503').argParser(
        probability,
      ),
    )
    .addOption(
      new Option(
        '--reset-rate <p>',
        'for this fraction of API requests, store the write then drop the connection',
      ).argParser(probability),
    )
    .addOption(
      new Option(
        '--spike-rate <p>',
        'hold this fraction of API requests back by a latency spike (see --spike-ms)',
      ).argParser(probability),
    )
    .addOption(
      new Option('--spike-ms <ms>', 'length of one latency spike (default 1000)').argParser(
        integer(0),
      ),
    )
    .addOption(
      new Option(
        '--storm-rate <p>',
        'chance that an API request sets off a 429 storm that refuses every request (see --storm-ms)',
      ).argParser(probability),
    )
    .addOption(
      new Option('--storm-ms <ms>', 'length of one 429 storm (default 2000)').argParser(integer(0)),
    )
    .addOption(
      new Option('--credits <n>', 'answer 402 once this many documents were accepted').argParser(
        integer(0),
      ),
    )
    .addOption(
      new Option('--seed <n>', 'seed for fault injection and jitter (repeatable drills)').argParser(
        integer(0),
      ),
    )
    .addHelpText(
      'after',
      `
Examples:
  $ synap emulator                                   start on :8787 and print the URL and key
  $ synap emulator --port 0 --db :memory: --tier unlimited --processing-delay 0
  $ synap emulator --tier free --fail-rate 0.05 --reset-rate 0.01 --seed 7   rehearse a flaky service
  $ synap emulator --spike-rate 0.02 --spike-ms 3000 --storm-rate 0.01      slow spells and 429 storms`,
    )
    .action(async (opts: EmulatorCommandOptions, command: Command) => {
      const globals = globalOptions(command);
      const emulator = await startEmulator({
        host: opts.host,
        port: opts.port,
        db: opts.db ?? defaultEmulatorDbPath(),
        apiKey: opts.apiKey,
        tier: opts.tier,
        rpm: opts.rpm,
        burst: opts.burst,
        rateHeaders: opts.rateHeaders,
        processingDelayMs: opts.processingDelay,
        latencyMs: opts.latency,
        failRate: opts.failRate,
        resetRate: opts.resetRate,
        credits: opts.credits,
        spikeRate: opts.spikeRate,
        spikeMs: opts.spikeMs,
        stormRate: opts.stormRate,
        stormMs: opts.stormMs,
        seed: opts.seed,
      });
      const limits = resolveRateLimit(opts.tier, opts.rpm, opts.burst);
      printEmulatorBanner(
        {
          url: emulator.url,
          apiKey: emulator.apiKey,
          db: emulator.db,
          tier: limits.rpm === undefined ? 'unlimited' : opts.tier,
          rpm: limits.rpm ?? null,
          burst: limits.rpm === undefined ? null : limits.burst,
          processingDelayMs: opts.processingDelay,
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
