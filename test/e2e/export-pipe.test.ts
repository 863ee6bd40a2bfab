import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { BIN, makeSandbox, type CliRun } from '../helpers/cli.js';
import { seedMemories } from '../helpers/export.js';
import { assertRunLeaksNothing } from '../helpers/secrets.js';

/**
 * `synap export | synap ingest -` and `synap export | slow reader`, as a shell runs them: two
 * processes joined by a real OS pipe. The export waits for 'drain' every time the pipe is full;
 * those waits must not leave listeners behind (Node warns after 11 on one stream).
 */

function sh(script: string, env: Record<string, string>): Promise<CliRun> {
  const full: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('SYNAP_')) full[k] = v;
  }
  Object.assign(full, env);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      try {
        assertRunLeaksNothing(['export'], full, { stdout, stderr });
        for (const k of [env.SRC_KEY, env.DST_KEY]) {
          if (k && (stdout + stderr).includes(k)) throw new Error('secret leak in the pipeline');
        }
      } catch (err) {
        reject(err as Error);
        return;
      }
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const node = JSON.stringify(process.execPath);
const bin = JSON.stringify(BIN);
/** Reads stdin with a pause after each chunk, and reports the lines it saw. */
const SLOW_READER = `
let lines = 0;
process.stdin.on('data', (chunk) => {
  for (const b of chunk) if (b === 10) lines++;
  process.stdin.pause();
  setTimeout(() => process.stdin.resume(), 20);
});
process.stdin.on('end', () => console.log('lines ' + lines));
`;

describe('export into a pipe', () => {
  const box = makeSandbox();
  let src: RunningEmulator;
  let dst: RunningEmulator;
  let env: Record<string, string>;

  beforeAll(async () => {
    src = await startEmulator({ tier: 'unlimited', processingDelayMs: 0 });
    dst = await startEmulator({ tier: 'unlimited', processingDelayMs: 0, latencyMs: 10 });
    await seedMemories(src, 3000);
    env = {
      ...box.env,
      SRC_KEY: src.apiKey,
      SRC_URL: src.url,
      DST_KEY: dst.apiKey,
      DST_URL: dst.url,
    };
  }, 60_000);
  afterAll(async () => {
    await src.close();
    await dst.close();
    box.cleanup();
  });

  it('synap export | synap ingest - copies every memory once, with no listener warning', async () => {
    const r = await sh(
      `SYNAP_API_KEY="$SRC_KEY" SYNAP_BASE_URL="$SRC_URL" ${node} ${bin} export --page-size 100 | ` +
        `SYNAP_API_KEY="$DST_KEY" SYNAP_BASE_URL="$DST_URL" ${node} ${bin} ingest - --format jsonl`,
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/i);
    const copied = dst.documents();
    expect(copied).toHaveLength(3000);
    expect(new Set(copied.map((d) => d.document_id)).size).toBe(3000);
  }, 120_000);

  it('a slow reader makes the export wait on a full pipe many times, with no listener warning', async () => {
    const r = await sh(
      `SYNAP_API_KEY="$SRC_KEY" SYNAP_BASE_URL="$SRC_URL" ${node} ${bin} export --page-size 20 | ` +
        `${node} -e "$SLOW_READER"`,
      { ...env, SLOW_READER },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('lines 3000');
    expect(r.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/i);
  }, 120_000);
});
