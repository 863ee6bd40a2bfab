import { CliError, ExitCode, UsageError } from '../errors.js';
import { MemoryPaginator, type ListClient } from '../export/paginator.js';

/**
 * Memory ids given as a unique prefix, like git's abbreviated hashes: a table cut to a narrow
 * terminal, or an id typed by hand, still names one memory. The service has no prefix search,
 * so a prefix is looked up by listing the memories (pages of 100); a whole id is used as given.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Shortest prefix looked up (git's too): shorter ones name too many memories to be useful. */
const MIN_PREFIX = 4;
const SHOWN_CANDIDATES = 10;

const SHAPE = 'xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx';

/** True when `id` is to be looked up as a prefix: the start of a UUID's shape, not all of it. */
export function isIdPrefix(id: string): boolean {
  if (UUID.test(id) || id.length < MIN_PREFIX || id.length >= SHAPE.length) return false;
  return [...id].every((c, i) => (SHAPE[i] === '-' ? c === '-' : /[0-9a-f]/i.test(c)));
}

/**
 * The whole ids for `ids`: each prefix replaced by the one memory id it starts; the others as
 * they are. One listing serves every prefix. A prefix that matches several is a usage error
 * listing them (exit 2); one that matches none is exit 1, like a memory that is not there.
 */
export async function resolveIdPrefixes(client: ListClient, ids: string[]): Promise<string[]> {
  const prefixes = [...new Set(ids.filter(isIdPrefix).map((p) => p.toLowerCase()))];
  if (prefixes.length === 0) return ids;
  const matches = new Map<string, string[]>(prefixes.map((p) => [p, []]));
  for await (const page of new MemoryPaginator(client, { pageSize: 100 })) {
    for (const m of page.memories) {
      const id = typeof m.memory_id === 'string' ? m.memory_id : undefined;
      if (id === undefined) continue;
      for (const p of prefixes) {
        if (id.toLowerCase().startsWith(p)) matches.get(p)!.push(id);
      }
    }
  }
  return ids.map((id) => {
    if (!isIdPrefix(id)) return id;
    const found = matches.get(id.toLowerCase())!;
    if (found.length === 1) return found[0]!;
    if (found.length === 0) {
      throw new CliError(`no memory id starts with "${id}"`, {
        exitCode: ExitCode.FAILURE,
        hints: ["Memory ids are shown by 'synap memories list' (first column)."],
      });
    }
    const shown = found.slice(0, SHOWN_CANDIDATES).map((c) => `  ${c}`);
    if (found.length > SHOWN_CANDIDATES)
      shown.push(`  … and ${found.length - SHOWN_CANDIDATES} more`);
    throw new UsageError(
      `"${id}" is the start of ${found.length} memory ids:\n${shown.join('\n')}`,
      {
        hints: ['Give more of the id.'],
      },
    );
  });
}
