import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { BIN, type CliRun } from './cli.js';
import { assertRunLeaksNothing } from './secrets.js';

/** Writes `n` chat-like JSONL records (distinct content, no document_id) and returns the path. */
export function writeChatFile(path: string, n: number, tag = 'r'): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    lines.push(
      JSON.stringify({
        document: `User: ${tag} message ${i} about topic ${i % 97}\nAssistant: noted ${i}.`,
        user_id: `u_${i % 500}`,
        document_created_at: '2024-01-01T00:00:00Z',
        metadata: { n: i, tag },
      }),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

/** Spawns the built CLI without waiting, so a test can signal it mid-run (output checked for keys). */
export function spawnCli(
  args: string[],
  opts: { env: Record<string, string>; cwd?: string },
): { child: ChildProcess; done: Promise<CliRun>; stderrSoFar: () => string } {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SYNAP_')) env[k] = v;
  }
  Object.assign(env, opts.env);
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        assertRunLeaksNothing(args, env, { stdout, stderr });
      } catch (err) {
        reject(err as Error);
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done, stderrSoFar: () => stderr };
}

/** Document ids stored more than once, and how many distinct documents are stored. */
export function storedOnce(
  docs: { document: string; document_id: string; times_received?: number }[],
): {
  distinct: number;
  duplicates: number;
} {
  const seen = new Map<string, number>();
  for (const d of docs) seen.set(d.document, (seen.get(d.document) ?? 0) + 1);
  let duplicates = 0;
  for (const n of seen.values()) if (n > 1) duplicates += n - 1;
  return { distinct: seen.size, duplicates };
}
