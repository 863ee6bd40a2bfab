import { UsageError } from '../../errors.js';

/**
 * Ids the server refuses as malformed (a 422 on the id in the path, e.g. "Input should be a
 * valid UUID") are the user's to fix: reported as a usage error that names the id (exit 2), not
 * as a server failure with a correlation id.
 */

export type IdKind = 'memory' | 'ingestion';

/** The server's reason when `err` refuses the id in the request path; else undefined. */
export async function refusedIdReason(err: unknown): Promise<string | undefined> {
  const { InvalidInputError } = await import('../../client/errors.js');
  if (!(err instanceof InvalidInputError)) return undefined;
  const path = err.locations.find((l) => l.startsWith('path.'));
  if (path === undefined) return undefined;
  // The message lists each refused part as "loc: reason"; keep the id's reason.
  const own = err.message.split('; ').find((part) => part.startsWith(`${path}: `));
  return (own ?? err.message).replace(`${path}: `, '').replace(/\s*\([A-Z]+ \/[^)]*\)$/, '');
}

/** Runs `call` for `id`, turning a refusal of the id into a usage error that names it. */
export async function withIdChecked<T>(
  id: string,
  kind: IdKind,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const reason = await refusedIdReason(err);
    if (reason === undefined) throw err;
    throw new UsageError(`"${id}" is not a valid ${kind} id: ${reason}`, {
      hints: [
        kind === 'memory'
          ? "Memory ids are shown by 'synap memories list' (first column) and 'synap export'."
          : 'Ingestion ids are the ones returned when documents were created.',
      ],
    });
  }
}
