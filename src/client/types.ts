/**
 * Wire types of the Synap memory API (/api/v1/…), shared by the client and the
 * emulator so both sides agree on field names and types.
 */

export const DOCUMENT_TYPES = [
  'ai-chat-conversation',
  'document',
  'email',
  'pdf',
  'image',
  'audio',
  'meeting-transcript',
] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const MODES = ['fast', 'long-range'] as const;
export type Mode = (typeof MODES)[number];

/**
 * What the official SDK sends when the caller gives no document_type / mode. Never
 * null on the wire: the service refuses null, and the type changes what extraction does.
 */
export const DEFAULT_DOCUMENT_TYPE: DocumentType = 'ai-chat-conversation';
export const DEFAULT_MODE: Mode = 'long-range';

/**
 * `scope`: the level a write belongs to, one entry per level from the top down to it, e.g.
 * `{"customer":"acme","team":"payments","user":"dana"}`. Only for accounts with nested scoping.
 */
export type ScopePath = Record<string, string>;

export const MERGE_STRATEGIES = ['replace', 'append', 'smart-merge'] as const;
export type MergeStrategy = (typeof MERGE_STRATEGIES)[number];

/**
 * Ingestion statuses: the Python SDK's enum, plus `error` and `cancelled`, which the JS SDK's
 * wait treats as final too.
 */
export const INGEST_STATUSES = [
  'queued',
  'processing',
  'completed',
  'failed',
  'partial_success',
  'error',
  'cancelled',
] as const;
export type IngestStatus = (typeof INGEST_STATUSES)[number];
/** Every status but the two an ingestion passes through. */
export const TERMINAL_STATUSES: readonly IngestStatus[] = INGEST_STATUSES.filter(
  (s) => s !== 'queued' && s !== 'processing',
);

/**
 * POST /api/v1/memories/create: every key is sent, in the SDK's order, unset optional ones null;
 * document_type, mode and metadata always carry a value, scope is null or a non-empty path.
 */
export interface CreateMemoryRequest {
  document: string;
  document_type: DocumentType;
  document_id: string | null;
  document_created_at: string | null;
  user_id: string | null;
  customer_id: string | null;
  scope: ScopePath | null;
  mode: Mode;
  metadata: Record<string, unknown>;
}

/** The keys of a create body in the order the SDK sends them. */
export const CREATE_BODY_KEYS = [
  'document',
  'document_type',
  'document_id',
  'document_created_at',
  'user_id',
  'customer_id',
  'scope',
  'mode',
  'metadata',
] as const satisfies readonly (keyof CreateMemoryRequest)[];

/** The answer to a create: the document is queued for ingestion. */
export interface CreateMemoryResponse {
  ingestion_id: string;
  document_id: string;
  status: IngestStatus;
  queued_at: string;
  error_message?: string | null;
}

export interface BatchItemResult {
  ingestion_id: string | null;
  document_id: string | null;
  status: IngestStatus;
  queued_at: string | null;
  error_message?: string | null;
  /** Machine-readable reason for a failed item, e.g. "DUPLICATE_DOCUMENT" or "INVALID_INPUT". */
  error_code?: string | null;
}

export interface BatchCreateResponse {
  batch_id: string;
  total: number;
  succeeded: number;
  failed: number;
  results: BatchItemResult[];
}

/** GET /api/v1/memories/status/{ingestion_id} */
export interface MemoryStatusResponse {
  ingestion_id: string;
  document_id: string | null;
  status: IngestStatus;
  queued_at: string;
  started_at: string | null;
  completed_at: string | null;
  memories_created: number;
  memory_ids: string[];
  error_message: string | null;
}

/** GET /api/v1/memories/{id}. Unknown fields are kept (export writes every field it gets). */
export interface Memory {
  memory_id: string;
  memory_type: string;
  content: string;
  confidence: number;
  category?: string | null;
  subcategory?: string | null;
  created_at: string;
  updated_at?: string | null;
  source_document_id?: string | null;
  [extra: string]: unknown;
}

/** PATCH /api/v1/memories/{id} */
export interface UpdateMemoryRequest {
  document: string;
  merge_strategy?: MergeStrategy;
  document_type?: DocumentType;
  metadata?: Record<string, unknown>;
}

/** DELETE /api/v1/memories/{id} */
export interface DeleteMemoryResponse {
  memory_id: string;
  deleted_at: string;
}

/** GET /api/v1/memories?page&page_size: one page and where it is in the whole list. */
export interface ListMemoriesResponse {
  data: Memory[];
  page: number;
  page_size: number;
  /** Absent when the server sends none (then only a short or empty page shows the end). */
  total?: number;
  /** As sent, or ceil(total / page_size) when only total is; absent when neither is. */
  total_pages?: number;
}

/** GET /api/v1/auth/whoami: whose key this is. */
export interface WhoamiResponse {
  client_id: string;
  instance_id: string;
  /** `equals_customer`: a B2C instance (customer_id refused on writes); absent on older servers. */
  user_context_isolation?: string;
  [extra: string]: unknown;
}

/** whoami's user_context_isolation of a B2C instance: user_id is the whole identity. */
export const B2C_ISOLATION = 'equals_customer';
/** whoami's user_context_isolation of a B2B instance: a user_id needs its customer_id. */
export const B2B_ISOLATION = 'strict';

/**
 * Reasons a 429 gives when it is a credit stop, not a rate limit (the credit gate's `error` or
 * `reason`): the credits are spent, the trial's credits are spent, the plan's subscription lapsed.
 */
export const CREDIT_STOP_REASONS = [
  'insufficient_credits',
  'trial_limit_reached',
  'subscription_inactive',
] as const;
export type CreditStopReason = (typeof CREDIT_STOP_REASONS)[number];

/** GET /v1/credits/balance */
export interface CreditBalance {
  client_id: string;
  balance_credits: number;
  warning_low: boolean;
  buckets: { source_type: string; balance: number; expires_at: string | null }[];
  [extra: string]: unknown;
}

/** One entry of GET /v1/credits/ledger. */
interface CreditLedgerEntry {
  ledger_id: string;
  entry_type: string;
  delta: number;
  metric_type: string | null;
  category: string | null;
  created_at: string;
  [extra: string]: unknown;
}

/** GET /v1/credits/ledger?limit&offset&entry_type&from&to (offset paging). */
export interface CreditLedgerPage {
  entries: CreditLedgerEntry[];
  total: number;
  limit: number;
  offset: number;
}

export interface CreditLedgerQuery {
  limit: number;
  offset: number;
  entryType?: string;
  /** ISO-8601, inclusive. */
  from?: string;
  to?: string;
}

/** POST /v1/credits/estimate: every key sent, unset ones null (as the official SDK does). */
export interface CreditEstimateRequest {
  metric_type: string;
  units: number;
  item_count: number | null;
  endpoint: string | null;
  mode: string | null;
}

export interface CreditEstimate {
  credits_estimate: number;
  [extra: string]: unknown;
}

export const API_PATHS = {
  health: '/health',
  whoami: '/api/v1/auth/whoami',
  create: '/api/v1/memories/create',
  batch: '/api/v1/memories/batch',
  status: (ingestionId: string) => `/api/v1/memories/status/${encodeURIComponent(ingestionId)}`,
  memory: (memoryId: string) => `/api/v1/memories/${encodeURIComponent(memoryId)}`,
  list: '/api/v1/memories',
  creditsBalance: '/v1/credits/balance',
  creditsLedger: '/v1/credits/ledger',
  creditsEstimate: '/v1/credits/estimate',
} as const;

export const MAX_BATCH_SIZE = 100;
export const MAX_PAGE_SIZE = 100;
