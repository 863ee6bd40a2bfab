import type { ApiResult } from '../client/client.js';
import {
  AuthenticationError,
  InsufficientCreditsError,
  PermissionDeniedError,
  SynapError,
} from '../client/errors.js';
import type { DeleteMemoryResponse } from '../client/types.js';

export interface DeleteReport {
  deleted: DeleteMemoryResponse[];
  failed: {
    memory_id: string;
    error: { code: string; message: string; status?: number; correlation_id?: string };
  }[];
}

/** What deleting needs of SynapClient. */
export interface DeleteClient {
  delete(memoryId: string): Promise<ApiResult<DeleteMemoryResponse>>;
}

/** A refused key or an empty account stops every delete after it; other errors are per id. */
function endsTheRun(err: unknown): boolean {
  return (
    err instanceof AuthenticationError ||
    err instanceof PermissionDeniedError ||
    err instanceof InsufficientCreditsError ||
    !(err instanceof SynapError)
  );
}

/**
 * Deletes one id after another. A single id's error is thrown as it is (its message, correlation
 * id and exit code are the answer); with several ids, per-id errors are reported and the rest go on.
 */
export async function deleteMemories(client: DeleteClient, ids: string[]): Promise<DeleteReport> {
  const report: DeleteReport = { deleted: [], failed: [] };
  for (const id of ids) {
    try {
      report.deleted.push((await client.delete(id)).data);
    } catch (err) {
      if (endsTheRun(err) || ids.length === 1 || !(err instanceof SynapError)) throw err;
      report.failed.push({
        memory_id: id,
        error: {
          code: err.code,
          // SynapError messages are redacted when the error is made.
          message: err.message,
          ...(err.status !== undefined ? { status: err.status } : {}),
          ...(err.correlationId ? { correlation_id: err.correlationId } : {}),
        },
      });
    }
  }
  return report;
}
