import type { EmulatorFaults, FaultCounter } from './faults/table.js';

/**
 * Public shapes of the local Synap emulator: what `startEmulator` accepts and returns, and what
 * `GET /_emulator/stats` / `GET /_emulator/documents` answer. Other parts' tests rely on these.
 */

import type { Clock } from '../clock.js';

export type EmulatorTier = 'free' | 'pro' | 'unlimited';

export interface EmulatorOptions extends EmulatorFaults {
  /** Interface to bind; default 127.0.0.1 (a development tool, never exposed by default). */
  host?: string;
  /** Default 0: a free port, read it back from `RunningEmulator.port`. */
  port?: number;
  /** SQLite file path or ':memory:' (default from code). */
  db?: string;
  /** Key to accept (added to the database if new); default: the first stored key, created if none. */
  apiKey?: string;
  /** Rate-limit tier of every key; default 'unlimited' from code. */
  tier?: EmulatorTier;
  /** Overrides the tier's requests per minute. */
  rpm?: number;
  /** Overrides the tier's burst (bucket capacity). */
  burst?: number;
  /** How the limit is counted: a token bucket (default) or a fixed one-minute window. */
  limiter?: 'bucket' | 'window';
  /** Send X-RateLimit-Limit/Remaining/Reset (default true). */
  rateHeaders?: boolean;
  /** queued → processing → completed takes this long; 0 (the default from code) completes at once. */
  processingDelayMs?: number;
  /** Seed of the fault/jitter random source, so fault runs are repeatable. */
  seed?: number;
  /** Injected time source, so rate-limit and lifecycle tests are exact (default: the system clock). */
  clock?: Clock;
  /**
   * whoami's `user_context_isolation`: 'strict' (B2B, the default) or 'equals_customer' (B2C:
   * every call carrying a customer_id is refused with 400).
   */
  isolation?: EmulatorIsolation;
  /**
   * Levels of a nested scope ladder, top first (e.g. ['customer', 'team', 'user']). Without it
   * the instance has no nested scoping and a write carrying a `scope` is refused.
   */
  scopeLevels?: string[];
}

export const ISOLATIONS = ['strict', 'equals_customer'] as const;
type EmulatorIsolation = (typeof ISOLATIONS)[number];

/** The ladder `--scoping` gives when no levels are named. */
export const DEFAULT_SCOPE_LEVELS = ['customer', 'team', 'user'];

/** One stored document as `documents()` and `GET /_emulator/documents` return it. */
export interface StoredDocumentSummary {
  document_id: string;
  ingestion_id: string;
  user_id: string | null;
  customer_id: string | null;
  document_type: string;
  mode: string;
  document_created_at: string | null;
  metadata: Record<string, unknown>;
  /** The document text as received (a JSON object document as its JSON text). */
  document: string;
  /** The scope path sent with it, or null. */
  scope: Record<string, string> | null;
  /** 1 + the number of times the same document_id was sent again (and refused). */
  times_received: number;
}

export interface EmulatorStats {
  /** Every request received since start (including /health and /_emulator/*). */
  requests_total: number;
  /** Keyed by route name: health, whoami, create, batch, status, get, update, delete, list, emulator, unknown. */
  requests_by_endpoint: Record<string, number>;
  /** Keyed by HTTP status as a string; "reset" for connections destroyed by --reset-rate. */
  requests_by_status: Record<string, number>;
  /** route → status → count. */
  requests_by_endpoint_status: Record<string, Record<string, number>>;
  /** Number of 429 responses. */
  rate_limited: number;
  /** Requests that arrived from a key before the Retry-After last announced to it had passed. */
  early_requests: number;
  /** Documents in the database (survives restarts). */
  documents_stored: number;
  /** Documents accepted since this emulator started. */
  documents_accepted: number;
  /** Documents refused because their document_id was already stored (since start). */
  duplicates_refused: number;
  /** Memories in the database (after completing any ingestion that is due). */
  memories_stored: number;
  /** Credits spent since start (one per document accepted; see GET /v1/credits/balance). */
  credits_spent: number;
  /** Faults injected since start, one counter per entry of the fault table (faults.ts). */
  faults: Record<FaultCounter, number>;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:43123 (no trailing slash). */
  url: string;
  apiKey: string;
  port: number;
  /** Path of the database (':memory:' when in memory). */
  db: string;
  /** The tier and its limits, as whoami shows them (`unlimited` when no rate is set). */
  plan: { tier: string; rpm: number | null; burst: number | null };
  stats(): EmulatorStats;
  documents(): StoredDocumentSummary[];
  /** Change faults at run time, e.g. to start failing in the middle of a test. */
  setFaults(faults: EmulatorFaults): void;
  close(): Promise<void>;
}
