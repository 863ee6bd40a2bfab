import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';

let box: ReturnType<typeof makeSandbox>;
beforeAll(() => {
  box = makeSandbox();
});
afterAll(() => box.cleanup());

describe('--local', () => {
  it('memories list works on a fresh machine: no key, no account, db in XDG_DATA_HOME', async () => {
    const r = await runInProcess(['--local', 'memories', 'list'], { env: box.env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('No memories.\n');
    expect(existsSync(join(box.env.XDG_DATA_HOME!, 'synap', 'emulator.db'))).toBe(true);
    const j = await runInProcess(['--local', 'memories', 'list', '--json'], { env: box.env });
    expect(JSON.parse(j.stdout).result).toMatchObject({ data: [], total: 0 });
  });

  it('keeps the same instance across runs and shows it in auth status', async () => {
    const a = JSON.parse(
      (await runInProcess(['--local', 'auth', 'status', '--json'], { env: box.env })).stdout,
    ).result;
    const b = JSON.parse(
      (await runInProcess(['--local', 'auth', 'status', '--json'], { env: box.env })).stdout,
    ).result;
    expect(a.local).toBe(true);
    expect(a.key_source).toBe('local');
    expect(a.base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(b.instance_id).toBe(a.instance_id);
  });

  it('ignores a wrong SYNAP_API_KEY (the embedded emulator provides its own)', async () => {
    const r = await runInProcess(['--local', 'memories', 'list', '--json'], {
      env: { ...box.env, SYNAP_API_KEY: 'synap_notthelocalkey000000000' },
    });
    expect(r.code).toBe(0);
  });

  it('with --base-url is a usage error (exit 2) before anything starts; SYNAP_BASE_URL is ignored', async () => {
    for (const args of [
      ['--local', '--base-url', 'https://example.com', 'memories', 'list'],
      ['memories', 'list', '--base-url', 'https://example.com', '--local'],
    ]) {
      const r = await runInProcess(args, { env: box.env });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain('--local and --base-url cannot be used together');
      expect(r.stdout).toBe('');
    }
    const j = await runInProcess(
      ['--json', '--local', '--base-url', 'https://example.com', 'export'],
      {
        env: box.env,
      },
    );
    expect(j.code).toBe(2);
    expect(JSON.parse(j.stderr.trim().split('\n').pop()!).error.code).toBe('USAGE');
    // The environment's base URL is a default, which --local overrides.
    const env = await runInProcess(['--local', 'memories', 'list', '--json'], {
      env: { ...box.env, SYNAP_BASE_URL: 'https://example.com' },
    });
    expect(env.code, env.stderr).toBe(0);
  });

  it('an ingest stopped part way resumes on the next run, though the embedded port is new', async () => {
    // The state file records the instance's address; for --local that is the database, since the
    // port changes every run while the store stays the same.
    const input = join(box.dir, 'resume-local.jsonl');
    const lines = Array.from({ length: 600 }, (_, i) =>
      i === 350 ? '{"document":""}' : JSON.stringify({ document: `local note ${i}` }),
    );
    writeFileSync(input, lines.join('\n') + '\n');
    const args = ['--local', 'ingest', input, '--max-errors', '1', '--concurrency', '1'];
    const first = await runInProcess(args, { env: box.env });
    expect(first.stderr).toContain('--max-errors reached');
    expect(existsSync(`${input}.synap-state.json`)).toBe(true);
    const again = await runInProcess([...args, '--json'], { env: box.env });
    expect(again.stderr).not.toContain('options differ');
    const summary = JSON.parse(again.stdout).result;
    expect(again.code).toBe(3);
    expect(summary).toMatchObject({ resumed_past: 351, sent: 249, accepted: 599, failed: 1 });
    expect(summary.earlier_runs).toMatchObject({ accepted: 350, failed: 1 });
  });
});
