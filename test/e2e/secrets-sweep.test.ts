import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, spawnCli, type CliRun } from '../helpers/cli.js';
import { runInProcess, runOnClock } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';
import { filesWithSecrets, findSecret } from '../helpers/secrets.js';

const SAMPLES = resolve(import.meta.dirname, '../../samples');
const CANARY = 'synap_SWEEPcanary0000000000000000000000000000000007e1d';
const CANARY_TARGET = 'synap_SWEEPcanaryTARGET000000000000000000000000000b42';
const CANARY_WRONG = 'synap_SWEEPcanaryWRONG0000000000000000000000000000c3a';

/**
 * One sweep through every command and failure path with canary keys, --verbose on: the keys
 * may live in the profile config file (owner-only) and nowhere else, not in any output, log
 * line, failures file, state file, export or error message.
 *
 * The commands run in this process (test/helpers/in-process.ts: the same program the binary
 * runs, its stdout and stderr captured), on a fake clock so the source's faults and the
 * nothing-listening case wait out their retry backoff at once; the SIGINT stop runs the
 * binary, since only a process shows it.
 */
describe('canary API keys never leak', () => {
  const sandbox = makeSandbox();
  const dir = sandbox.dir;
  let source: RunningEmulator;
  let target: RunningEmulator;
  const runs: { args: string[]; run: CliRun }[] = [];
  const run = async (
    args: string[],
    opts: { env?: Record<string, string>; input?: string; realClock?: boolean } = {},
  ): Promise<CliRun> => {
    const how = {
      env: { ...sandbox.env, ...opts.env },
      input: opts.input,
      cwd: dir,
      timeoutMs: 60_000,
    };
    const r = await (opts.realClock ? runInProcess(args, how) : runOnClock(args, how));
    runs.push({ args, run: r });
    return r;
  };

  beforeAll(async () => {
    // Faults on the source, so retries, resets and their --verbose lines are part of the sweep.
    [source, target] = await Promise.all([
      startEmulator({ apiKey: CANARY, failRate: 0.1, resetRate: 0.02, seed: 5 }),
      startEmulator({ apiKey: CANARY_TARGET }),
    ]);
    cpSync(SAMPLES, dir, { recursive: true });
  });
  afterAll(async () => {
    await Promise.all([source.close(), target.close()]);
    sandbox.cleanup();
  });

  it('every command, with --verbose, on the happy and the failing paths', async () => {
    // Keys stored per profile, read from stdin as a script would.
    expect(
      (
        await run(['--base-url', source.url, 'auth', 'login', '--api-key-stdin'], {
          input: CANARY,
        })
      ).code,
    ).toBe(0);
    expect(
      (
        await run(
          ['--profile', 'target', '--base-url', target.url, 'auth', 'login', '--api-key-stdin'],
          { input: CANARY_TARGET },
        )
      ).code,
    ).toBe(0);
    await run(['auth', 'status']);
    await run(['--json', 'auth', 'status']);
    await run(['config', 'list']);

    // Ingest with bad records (failures file), from the profile and from the environment.
    const bad = await run(['--verbose', 'ingest', 'with-bad-records.jsonl']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/POST .*batch/);
    expect(existsSync(join(dir, 'with-bad-records.jsonl.failures.jsonl'))).toBe(true);
    const fromEnv = await run(['--verbose', '--json', 'ingest', 'chat-transcripts.jsonl'], {
      env: { SYNAP_API_KEY: CANARY, SYNAP_BASE_URL: source.url },
    });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);

    // A run stopped by --max-duration and one stopped by SIGINT leave state files behind. The
    // first on the real clock: a fake one could pass the second before any batch settled.
    writeChatFile(join(dir, 'big.jsonl'), 20_000, 'sweep');
    const stopped = await run(
      ['--verbose', 'ingest', 'big.jsonl', '--batch-size', '10', '--max-duration', '1s'],
      { realClock: true },
    );
    expect(stopped.code).toBe(5);
    expect(existsSync(join(dir, 'big.jsonl.synap-state.json'))).toBe(true);
    writeChatFile(join(dir, 'big2.jsonl'), 20_000, 'sweep2');
    const interrupted = spawnCli(['--verbose', 'ingest', 'big2.jsonl', '--batch-size', '10'], {
      env: sandbox.env,
      cwd: dir,
    });
    // Interrupted once something has settled and been checkpointed: a stop before anything
    // settled leaves no state by design, and this case is about the state file's contents.
    while (
      !/POST \/api\/v1\/memories\/batch/.test(interrupted.stderr()) ||
      !existsSync(join(dir, 'big2.jsonl.synap-state.json'))
    )
      await new Promise((r) => setTimeout(r, 20));
    interrupted.child.kill('SIGINT');
    const sigint = await interrupted.done;
    runs.push({ args: ['ingest', 'big2.jsonl (SIGINT)'], run: sigint });
    expect(sigint.code).toBe(130);
    expect(existsSync(join(dir, 'big2.jsonl.synap-state.json'))).toBe(true);

    // Everyday inspection.
    const list = await run(['--verbose', '--json', 'memories', 'list', '--page-size', '5']);
    expect(list.code, list.stderr).toBe(0);
    const id = (JSON.parse(list.stdout) as { result: { data: { memory_id: string }[] } }).result
      .data[0]!.memory_id;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await run(['--verbose', 'memories', 'get', id])).code).toBe(0);
    const updated = await run(['--verbose', 'memories', 'update', id, '--document', 'changed']);
    expect(updated.code, updated.stderr).toBe(0);
    expect((await run(['--verbose', 'memories', 'delete', id, '--yes'])).code).toBe(0);
    expect((await run(['--verbose', 'memories', 'get', id])).code).not.toBe(0); // 404
    await run(['--verbose', 'memories', 'status', '00000000-0000-4000-8000-000000000000']);

    // Export and migrate.
    const exported = await run(['--verbose', 'export', '-o', 'backup.jsonl']);
    expect(exported.code, exported.stderr).toBe(0);
    const migrated = await run(['--verbose', 'migrate', '--from', 'default', '--to', 'target']);
    expect(migrated.code, migrated.stderr).toBe(0);

    // Failing paths: a refused key, plain http to a remote host, nothing listening.
    const wrongKey = { SYNAP_API_KEY: CANARY_WRONG, SYNAP_BASE_URL: source.url };
    expect((await run(['--verbose', 'memories', 'list'], { env: wrongKey })).code).toBe(4);
    expect(
      (await run(['--verbose', 'ingest', 'chat-transcripts.jsonl'], { env: wrongKey })).code,
    ).toBe(4);
    await run(['--verbose', 'auth', 'login', '--api-key-stdin', '--profile', 'wrong'], {
      input: CANARY_WRONG,
    });
    const remote = await run(['--verbose', 'memories', 'list'], {
      env: { SYNAP_API_KEY: CANARY, SYNAP_BASE_URL: 'http://example.com' },
    });
    expect(remote.code).not.toBe(0);
    const down = await run(['--verbose', 'memories', 'list'], {
      env: { SYNAP_API_KEY: CANARY, SYNAP_BASE_URL: 'http://127.0.0.1:9' },
    });
    expect(down.code).not.toBe(0);

    // The sweep: no output of any run, and no file but the config, holds any of the keys.
    const keys = [CANARY, CANARY_TARGET, CANARY_WRONG];
    for (const { args, run: r } of runs) {
      expect(findSecret(r.stdout, keys), `stdout of synap ${args.join(' ')}`).toBeUndefined();
      expect(findSecret(r.stderr, keys), `stderr of synap ${args.join(' ')}`).toBeUndefined();
    }
    expect(filesWithSecrets(dir, keys)).toEqual([]);

    // The control: the config file does hold the keys (so the search would find a leak), and
    // only its owner may read it.
    const config = join(sandbox.env.SYNAP_CONFIG_DIR!, 'config.json');
    const text = readFileSync(config, 'utf8');
    expect(text).toContain(CANARY);
    expect(text).toContain(CANARY_TARGET);
    expect(text).not.toContain(CANARY_WRONG); // refused at login, never stored
    expect(statSync(config).mode & 0o077).toBe(0);
  }, 180_000);
});
