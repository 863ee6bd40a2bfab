/**
 * The one list of the emulator's faults: misbehaviours a test or a drill switches on, from flags
 * (`synap emulator --fail-rate 0.05`) or at run time (`RunningEmulator.setFaults`). The option
 * type, the CLI flags and their parsers, validation and the `faults` counters of
 * `GET /_emulator/stats` are all derived from this table; adding a fault means adding a row here
 * and acting on it in inject.ts (FaultInjector), which the handler asks at fixed points.
 *
 * src/emulator/faults/ is the test side of the emulator: nothing here is the service's contract,
 * which the rest of src/emulator/ mirrors. The credit-stop reasons, error-body shapes and route
 * groups below are the service's; they are listed here as the values a fault may choose.
 */

import { CREDIT_STOP_REASONS } from '../../client/types.js';

type FaultKind = 'ms' | 'probability' | 'count' | 'choice' | 'list';

export interface FaultSpec {
  /** Commander flag, e.g. '--fail-rate <p>'; the option's attribute name comes from it. */
  readonly flag: string;
  readonly kind: FaultKind;
  /** Help text of the flag. */
  readonly description: string;
  /** Names of the counters this fault adds to the stats' `faults` object. */
  readonly counters: readonly string[];
  /** Allowed values of a 'choice' or 'list' fault. */
  readonly choices?: readonly string[];
}

/**
 * Shapes of error bodies. `fastapi` is what the emulator sends by default (FastAPI's `detail`: a
 * string, an array of issues for validation, an object for 402/409/credit stops, plus the
 * documented `code`/`details`); the others send every error in one of the shapes clients meet.
 */
const ERROR_FORMATS = [
  'fastapi',
  'detail',
  'detail-array',
  'detail-object',
  'error',
  'error-object',
] as const;
export type ErrorFormat = (typeof ERROR_FORMATS)[number];

/** Final statuses other than `completed` an ingestion may end in (the JS SDK's wait treats all as final). */
const END_STATUSES = ['failed', 'error', 'cancelled'] as const;

/** Route groups a deployment may lack (`--absent-routes`); they answer 404. */
const ROUTE_GROUPS = ['list', 'credits'] as const;
export type RouteGroup = (typeof ROUTE_GROUPS)[number];

export const FAULTS = {
  latencyMs: {
    flag: '--latency <ms>',
    kind: 'ms',
    description: 'add this latency (±50% jitter) to every API request',
    counters: [],
  },
  failRate: {
    flag: '--fail-rate <p>',
    kind: 'probability',
    description: 'answer this fraction of API requests with 503',
    counters: ['failures'],
  },
  resetRate: {
    flag: '--reset-rate <p>',
    kind: 'probability',
    description: 'for this fraction of API requests, store the write then drop the connection',
    counters: ['resets'],
  },
  spikeRate: {
    flag: '--spike-rate <p>',
    kind: 'probability',
    description: 'hold this fraction of API requests back by a latency spike (see --spike-ms)',
    counters: ['spikes'],
  },
  spikeMs: {
    flag: '--spike-ms <ms>',
    kind: 'ms',
    description: 'length of one latency spike (default 1000)',
    counters: [],
  },
  stormRate: {
    flag: '--storm-rate <p>',
    kind: 'probability',
    description:
      'chance that an API request sets off a 429 storm that refuses every request (see --storm-ms)',
    counters: ['storms', 'storm_refusals'],
  },
  stormMs: {
    flag: '--storm-ms <ms>',
    kind: 'ms',
    description: 'length of one 429 storm (default 2000)',
    counters: [],
  },
  credits: {
    flag: '--credits <n>',
    kind: 'count',
    description:
      'credit wallet: one credit per document accepted; writes beyond it answer 402 (see /v1/credits/*)',
    counters: ['credit_refusals'],
  },
  creditStop: {
    flag: '--credit-stop <reason>',
    kind: 'choice',
    choices: CREDIT_STOP_REASONS,
    description:
      'answer writes with a credit-stop 429 of this reason (with --credits: once the wallet is spent, instead of 402)',
    counters: ['credit_stops'],
  },
  errorFormat: {
    flag: '--error-format <shape>',
    kind: 'choice',
    choices: ERROR_FORMATS,
    description: 'shape of every error body (default fastapi; see docs/emulator.md)',
    counters: [],
  },
  endStatus: {
    flag: '--end-status <status>',
    kind: 'choice',
    choices: END_STATUSES,
    description:
      'ingestions end in this final status instead of completed (the statuses a --wait must treat as final)',
    counters: ['ended_otherwise'],
  },
  absentRoutes: {
    flag: '--absent-routes <groups>',
    kind: 'list',
    choices: ROUTE_GROUPS,
    description: 'answer 404 on these route groups, like a deployment without them (comma list)',
    counters: [],
  },
} as const satisfies Record<string, FaultSpec>;

export type FaultName = keyof typeof FAULTS;

type FaultValue<S> = S extends { kind: 'choice'; choices: readonly (infer C)[] }
  ? C
  : S extends { kind: 'list'; choices: readonly (infer C)[] }
    ? C[]
    : number;

/** Faults that can be set at start and changed while the emulator runs. */
export type EmulatorFaults = { -readonly [K in FaultName]?: FaultValue<(typeof FAULTS)[K]> };

/** Names of the counters in `EmulatorStats.faults`. */
export type FaultCounter = (typeof FAULTS)[FaultName]['counters'][number];

export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** Every fault counter at zero, in table order. */
export function zeroFaultCounters(): Record<FaultCounter, number> {
  const out = {} as Record<FaultCounter, number>;
  for (const name of FAULT_NAMES) {
    for (const counter of FAULTS[name].counters as readonly FaultCounter[]) out[counter] = 0;
  }
  return out;
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}

/**
 * Checks one fault value; returns a message when it is out of range (the caller names the fault
 * as a flag or an option). Unset (undefined) is always valid.
 */
function faultValueProblem(name: FaultName, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const spec: FaultSpec = FAULTS[name];
  switch (spec.kind) {
    case 'probability':
      return typeof value === 'number' && value >= 0 && value <= 1
        ? undefined
        : `expected a probability between 0 and 1, got ${describeValue(value)}`;
    case 'ms':
    case 'count':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0
        ? undefined
        : `expected an integer >= 0, got ${describeValue(value)}`;
    case 'choice':
      return typeof value === 'string' && spec.choices!.includes(value)
        ? undefined
        : `expected one of ${spec.choices!.join(', ')}, got ${describeValue(value)}`;
    case 'list':
      return Array.isArray(value) &&
        value.every((v) => typeof v === 'string' && spec.choices!.includes(v))
        ? undefined
        : `expected a comma list of ${spec.choices!.join(', ')}, got ${describeValue(value)}`;
  }
}

/** Throws a RangeError naming the first invalid or unknown fault. */
export function checkFaults(faults: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(faults)) {
    if (!(name in FAULTS)) {
      throw new RangeError(`unknown emulator fault '${name}' (known: ${FAULT_NAMES.join(', ')})`);
    }
    const problem = faultValueProblem(name as FaultName, value);
    if (problem) throw new RangeError(`${name}: ${problem}`);
  }
}

const wholeNumber = (text: string): unknown => (/^\d+$/.test(text) ? Number(text) : text);

/** A flag's trimmed text as the value faultValueProblem then checks, per kind of fault. */
const FLAG_READERS: Record<FaultKind, (text: string) => unknown> = {
  probability: (text) => (text === '' ? NaN : Number(text)),
  ms: wholeNumber,
  count: wholeNumber,
  choice: (text) => text,
  list: (text) => (text === '' ? [''] : text.split(',').map((s) => s.trim())),
};

/** Parses a flag's text into the fault's value; throws an Error with the reason. */
export function parseFaultFlag(name: FaultName, raw: string): unknown {
  const value = FLAG_READERS[FAULTS[name].kind](raw.trim());
  const problem = faultValueProblem(name, value);
  if (problem) throw new Error(problem);
  return value;
}
