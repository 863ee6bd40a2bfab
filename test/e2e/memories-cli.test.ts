import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runCli, type CliRun } from '../helpers/cli.js';
import { api } from '../helpers/emulator.js';
import { ptyUnavailableReason, runInPty } from '../helpers/tty.js';

// The canary: it may live in the config file and nowhere else (no output, no other file).
const KEY = 'synap_MEMcanary00000000000000000000000000000009f3e';
let emu: RunningEmulator;
let box: ReturnType<typeof makeSandbox>;
let env: Record<string, string>;
const runs: CliRun[] = [];

async function cli(args: string[], extra: Record<string, string> = {}, input?: string) {
  const r = await runCli(args, { env: { ...env, ...extra }, input });
  runs.push(r);
  return r;
}

beforeAll(async () => {
  emu = await startEmulator({ port: 0, apiKey: KEY });
  box = makeSandbox();
  env = { ...box.env, SYNAP_BASE_URL: emu.url };
  const documents = Array.from({ length: 7 }, (_, i) => ({
    document: `User: note number ${i} ${'long text '.repeat(i === 3 ? 20 : 1)}\nAssistant: ok`,
    document_type: 'ai-chat-conversation',
    document_id: `doc-${i}`,
    document_created_at: null,
    user_id: i < 5 ? 'u1' : 'u2',
    customer_id: 'acme',
    mode: 'fast',
    metadata: {},
  }));
  const res = await api(emu, 'POST', '/api/v1/memories/batch', {
    body: { documents, fail_fast: false },
  });
  expect(res.status).toBe(200);
  const login = await cli(['auth', 'login', '--api-key-stdin'], {}, `${KEY}\n`);
  expect(login.code).toBe(0);
});

afterAll(async () => {
  await emu.close();
  box.cleanup();
});

async function listAll(): Promise<{ memory_id: string; content: string }[]> {
  const r = await cli(['memories', 'list', '--json', '--page-size', '100']);
  return JSON.parse(r.stdout).result.data;
}

describe('synap memories', () => {
  it.skipIf(ptyUnavailableReason() !== undefined)(
    'delete asks on a terminal: "n" keeps the memory ("Nothing deleted.", exit 0), "y" deletes it',
    async () => {
      const victim = (await listAll())[0]!.memory_id;
      const no = await runInPty(['memories', 'delete', victim], {
        env,
        steps: [{ waitFor: /cannot be undone/, send: 'n\r' }],
      });
      runs.push({ code: no.code, signal: null, stdout: no.raw, stderr: '' });
      expect(no.code).toBe(0);
      expect(no.screen).toContain('Nothing deleted.');
      expect(no.screen).not.toMatch(/error/i);
      expect((await listAll()).some((m) => m.memory_id === victim)).toBe(true);
      const yes = await runInPty(['memories', 'delete', victim], {
        env,
        steps: [{ waitFor: /cannot be undone/, send: 'y\r' }],
      });
      runs.push({ code: yes.code, signal: null, stdout: yes.raw, stderr: '' });
      expect(yes.code).toBe(0);
      expect(yes.screen).toContain(`deleted ${victim}`);
      expect((await listAll()).some((m) => m.memory_id === victim)).toBe(false);
    },
  );

  it('the canary key never appears in any output, nor in any file but the config file', () => {
    expect(runs.length).toBeGreaterThan(2);
    for (const r of runs) {
      expect(r.stdout).not.toContain(KEY);
      expect(r.stderr).not.toContain(KEY);
    }
    const configFile = join(box.env.SYNAP_CONFIG_DIR!, 'config.json');
    const files = readdirSync(box.dir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name));
    expect(files).toContain(configFile);
    for (const f of files) {
      if (f === configFile) continue;
      expect(readFileSync(f, 'latin1'), f).not.toContain(KEY);
    }
    expect(readFileSync(configFile, 'utf8')).toContain(KEY);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
  });
});
