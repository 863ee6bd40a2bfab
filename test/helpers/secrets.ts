import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Secret hygiene checked across the whole suite: every CLI run made through the helpers and
 * every file a test leaves in its sandbox is searched for API keys. A key may live in the
 * profile config file and in an emulator's database, nowhere else.
 */

/** What a Synap key looks like (`synap_` + a long alphanumeric tail). */
const KEY_SHAPE = /synap_[A-Za-z0-9]{20,}/;

/** The first secret found in `text`: one of `known`, or anything shaped like a key. */
export function findSecret(text: string, known: (string | undefined)[] = []): string | undefined {
  for (const k of known) if (k && k.length >= 8 && text.includes(k)) return k;
  return KEY_SHAPE.exec(text)?.[0];
}

/** Masks a found secret for the failure message (the report must not leak it either). */
function masked(secret: string): string {
  return `${secret.slice(0, 9)}…(${secret.length} chars)`;
}

/**
 * Throws when a CLI run printed a key. `synap emulator` is exempt: its banner shows the key of
 * the local server it started, which is what a developer needs to use it.
 */
export function assertRunLeaksNothing(
  args: string[],
  env: Record<string, string | undefined>,
  out: { stdout: string; stderr: string },
): void {
  if (args.includes('emulator')) return;
  for (const [name, text] of [
    ['stdout', out.stdout],
    ['stderr', out.stderr],
  ] as const) {
    const found = findSecret(text, [env.SYNAP_API_KEY]);
    if (found) {
      throw new Error(
        `secret leak: synap ${args.join(' ')} printed a key to ${name}: ${masked(found)}`,
      );
    }
  }
}

/** Files where a key is expected: profile configs and emulator databases (with SQLite's side files). */
function mayHoldKeys(path: string): boolean {
  return /(^|\/)config\.json$/.test(path) || /\.db(-wal|-shm|-journal)?$/.test(path);
}

/** Every file under `dir` (other than configs and databases) that contains a key. */
export function filesWithSecrets(dir: string, known: string[] = []): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(d, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && !mayHoldKeys(path) && st.size < 64 * 1024 * 1024) {
        const secret = findSecret(readFileSync(path, 'latin1'), known);
        if (secret) found.push(`${relative(dir, path)}: ${masked(secret)}`);
      }
    }
  };
  walk(dir);
  return found;
}
