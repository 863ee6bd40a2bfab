import { systemClock } from '../clock.js';
import type { GlobalOptions } from '../global-options.js';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  type IngestRunOptions,
} from '../ingest/options.js';
import type { InstanceRules } from '../ingest/isolation.js';
import { ingest } from '../ingest/pipeline.js';
import type { IngestSummary } from '../ingest/summary.js';
import { createIngestDisplay } from '../output/ingest-progress.js';
import type { Session } from '../session.js';
import { abortOnSignals } from '../signals.js';
import { RUN_OPTION_FLAGS, type IngestFlags, type RunOptionFlags } from './ingest-options.js';
import type { Outcome } from './run.js';

/** The pipeline's options from the flags, else the profile's defaults (valid: getDefaults). */
export function ingestRunOptions(
  flags: IngestFlags,
  session: Pick<Session, 'defaults' | 'profile' | 'stateUrl' | 'client'>,
  instance?: InstanceRules,
): IngestRunOptions {
  const d = session.defaults;
  return {
    client: session.client,
    map: {
      map: flags.map ?? {},
      idFrom: flags.idFrom ?? 'hash',
      // Read with `??` (validate.ts, requestShape): a default left undefined is no default.
      defaults: {
        document_type: flags.documentType ?? d.document_type,
        mode: flags.mode ?? d.mode,
        user_id: flags.userId,
        customer_id: flags.customerId,
        scope: flags.scope,
        timezone: flags.timezone,
        metadata: flags.metadata,
      },
      instance,
    },
    profile: session.profile,
    baseUrl: session.stateUrl,
    batchSize: flags.batchSize ?? d.batch_size ?? DEFAULT_BATCH_SIZE,
    concurrency: flags.concurrency ?? d.concurrency ?? DEFAULT_CONCURRENCY,
    ...(Object.fromEntries(RUN_OPTION_FLAGS.map((name) => [name, flags[name]])) as RunOptionFlags),
    failuresPath: flags.failures,
    maxDurationMs: flags.maxDuration,
    dryRun: flags.dryRun === true,
    waitTimeoutMs: flags.waitTimeout,
  };
}

/** The documents a run with these options would send: a dry pass, nothing shown or written. */
export async function countToSend(options: Omit<IngestRunOptions, 'signal'>): Promise<number> {
  const summary = await ingest({ ...options, dryRun: true });
  return summary.sent;
}

/**
 * Runs an ingest with its progress display and Ctrl-C handling, for `synap ingest` and
 * `synap migrate`. The summary is the result; its exit code is 0, 3, 5 or 130. A run ended
 * by an error (401/403, 402, a bug) rejects with IngestAbortedError.
 */
export async function ingestWithDisplay(
  globals: GlobalOptions,
  /** The run's options; `signal` (aborted by Ctrl-C) also stops whatever feeds the records. */
  build: (signal: AbortSignal) => Omit<IngestRunOptions, 'signal'>,
): Promise<Outcome<IngestSummary>> {
  const display = createIngestDisplay({
    quiet: globals.quiet || globals.json,
    color: globals.stderrColor,
  });
  const signals = abortOnSignals();
  const options = build(signals.signal);
  // --max-duration bounds the whole command: what came before the pipeline since the run's
  // start (whoami, the credit estimate, the ledger) is not given again.
  const { maxDurationMs: bound, since } = options;
  const maxDurationMs =
    bound === undefined || since === undefined
      ? bound
      : Math.max(1, bound - (systemClock.now() - since.at));
  try {
    const summary = await ingest({ ...options, maxDurationMs, signal: signals.signal }, display);
    return { result: summary, exitCode: summary.exit_code };
  } finally {
    display.done();
    signals.dispose();
    // A stdin that is still open would keep the process alive after a stop.
    if (options.inputs?.includes('-')) process.stdin.destroy();
  }
}
