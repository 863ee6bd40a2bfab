import { MAX_BATCH_SIZE, type DocumentType, type Mode } from '../client/types.js';
import { MAX_CONCURRENCY } from '../config/settings.js';
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
import type { IngestFlags } from './ingest-options.js';
import type { Outcome } from './run.js';

/** The pipeline's options from the flags, with the profile's defaults where a flag is absent. */
export function ingestRunOptions(
  flags: IngestFlags,
  session: Pick<Session, 'defaults' | 'profile' | 'stateUrl' | 'client'>,
  instance?: InstanceRules,
): IngestRunOptions {
  const d = session.defaults;
  const documentType = flags.documentType ?? (d.document_type as DocumentType | undefined);
  const mode = flags.mode ?? (d.mode as Mode | undefined);
  const clamp = (v: number, max: number) => Math.min(max, Math.max(1, v));
  return {
    client: session.client,
    map: {
      map: flags.map ?? {},
      idFrom: flags.idFrom ?? 'hash',
      defaults: {
        ...(documentType ? { document_type: documentType } : {}),
        ...(mode ? { mode } : {}),
        ...(flags.userId !== undefined ? { user_id: flags.userId } : {}),
        ...(flags.customerId !== undefined ? { customer_id: flags.customerId } : {}),
        ...(flags.scope ? { scope: flags.scope } : {}),
        ...(flags.timezone ? { timezone: flags.timezone } : {}),
        ...(flags.metadata ? { metadata: flags.metadata } : {}),
      },
      instance,
    },
    profile: session.profile,
    baseUrl: session.stateUrl,
    batchSize: flags.batchSize ?? clamp(d.batch_size ?? DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE),
    concurrency: flags.concurrency ?? clamp(d.concurrency ?? DEFAULT_CONCURRENCY, MAX_CONCURRENCY),
    format: flags.format,
    createdAt: flags.createdAt,
    channels: flags.channels,
    includePrivate: flags.includePrivate,
    failuresPath: flags.failures,
    maxErrors: flags.maxErrors,
    maxDurationMs: flags.maxDuration,
    restart: flags.restart === true,
    dryRun: flags.dryRun === true || flags.show !== undefined,
    show: flags.show,
    strict: flags.strict === true,
    wait: flags.wait === true,
    waitTimeoutMs: flags.waitTimeout,
    failFast: flags.failFast === true,
    waitLock: flags.waitLock === true,
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
  try {
    const summary = await ingest({ ...options, signal: signals.signal }, display);
    return { result: summary, exitCode: summary.exit_code };
  } finally {
    display.done();
    signals.dispose();
    // A stdin that is still open would keep the process alive after a stop.
    if (options.inputs?.includes('-')) process.stdin.destroy();
  }
}
