import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox, runShell, spawnCli, type CliRun } from '../helpers/cli.js';

/*
 * Every command in the ```sh blocks of the README and of every docs/*.md page, run as written
 * against emulators, in a scratch git repository holding the project's .gitignore and samples/
 * plus the data files the examples name. `npx synap` is the built binary. Each documented command
 * has an entry below: how it runs (the page's text, with placeholders such as <memory_id> and
 * synap_... filled in) and what it must do, or why it is not run here. A documented command
 * without an entry fails the test, so the pages and this file change together.
 */

const ROOT = resolve(import.meta.dirname, '../..');

/** The README and every page under docs/, as paths from the project root. */
function docPages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** The commands of a page's sh blocks: `$ ` lines where a block has them, else every line. */
function pageCommands(page: string): string[] {
  const text = readFileSync(join(ROOT, page), 'utf8');
  const commands: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block[1]!.split('\n').filter((l) => l.trim() !== '');
    const prompted = lines.some((l) => l.startsWith('$ '));
    for (const line of lines) {
      if (prompted && !line.startsWith('$ ')) continue; // a line of output
      commands.push(
        line
          .replace(/^\$ /, '')
          .replace(/\s+# .*$/, '')
          .trim(),
      );
    }
  }
  return commands;
}

/**
 * Pages whose commands run in order, as one story, in a test file of their own (which fails
 * when a command of its page has no check there).
 */
const OWN_TEST: Record<string, string> = {
  'docs/sources.md': 'test/e2e/sources-doc.test.ts',
  'docs/nightly-jobs.md': 'test/e2e/nightly-docs.test.ts',
};

/** Every documented command, from every page that exists and has no test of its own. */
const documentedCommands = () =>
  docPages()
    .filter((p) => OWN_TEST[p] === undefined)
    .flatMap(pageCommands);

interface Example {
  /** The documented command, as a page shows it. */
  readme: string;
  /**
   * The page it is on, when that page may be missing from this checkout (pages written in
   * parallel): its entries are ignored until the page exists.
   */
  page?: string;
  /** The shell line that runs it (default: the page's, `npx synap` being the built binary). */
  run?: string;
  /** Run against this emulator instead of the default one. */
  against?: 'scoped';
  check?: (r: CliRun) => void;
  /** Why it is not run here. */
  skip?: string;
  /** A server that runs until Ctrl-C: started, checked and stopped by its own test. */
  server?: true;
}

const ok = (r: CliRun) => expect(r.code, r.stderr).toBe(0);

/** In the order they run: later examples use what earlier ones stored. */
const ALL_EXAMPLES: Example[] = [
  // README: install and quick start
  { readme: 'npm install', skip: 'installs the project itself (CI runs it)' },
  { readme: 'npx synap --local ingest samples/chat-transcripts.jsonl', check: ok },
  { readme: 'npm test', skip: 'this test is part of it' },
  {
    readme: 'npm link',
    skip: 'links the checkout into the global npm prefix; here `synap` is already the built binary',
  },
  // README: using it with a Synap account
  {
    readme: 'synap auth login',
    skip: 'asks for the key at a masked prompt: test/e2e/auth-cli.test.ts runs it in a pty',
  },
  { readme: 'synap auth status', check: ok },
  { readme: 'synap doctor', check: ok },
  {
    readme: 'source <(synap completion bash)',
    // Sourced, the script registers completion for synap in this shell.
    run: 'source <(synap completion bash) && complete -p synap',
    check: (r) => {
      ok(r);
      expect(r.stdout).toContain('synap');
    },
  },
  {
    readme: 'SYNAP_API_KEY=synap_... synap ingest data.jsonl',
    run: 'SYNAP_API_KEY="$KEY" synap ingest data.jsonl',
    // data.jsonl holds one record with a bad document_type: a partial run.
    check: (r) => {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain('Fix them and run: synap ingest data.jsonl.failures.jsonl');
    },
  },
  // README: bring your history, one command per source
  ...[
    'synap ingest samples/chatgpt-export.zip',
    'synap ingest samples/claude-export.zip',
    'synap ingest samples/mail/inbox.mbox',
    'synap ingest samples/transcripts/retro.vtt --created-at 2024-05-01T09:30:00Z',
    'synap ingest samples/notes',
    'synap ingest samples/slack-export',
  ].map((readme) => ({
    readme,
    check: (r: CliRun) => {
      ok(r);
      expect(`${r.stdout}${r.stderr}`).toMatch(/accepted: [1-9]/);
      expect(r.stderr).toMatch(/failed:\s+0\n/);
    },
  })),
  // docs/ingest.md
  { readme: 'synap ingest chats.jsonl', check: ok },
  {
    readme:
      'synap ingest tickets.csv --map document=body --map document_id=ticket_id --map user_id=requester_email --map customer_id=org',
    check: ok,
  },
  { readme: 'zcat dump.jsonl.gz | synap ingest - --format jsonl', check: ok },
  {
    readme: 'synap ingest data.jsonl.failures.jsonl',
    // As the README says: fix `record` in the failures file, then ingest it.
    run:
      `jq -c '.record.document_type = "document"' data.jsonl.failures.jsonl > fixed.tmp && ` +
      'mv fixed.tmp data.jsonl.failures.jsonl && synap ingest data.jsonl.failures.jsonl',
    check: ok,
  },
  {
    readme: 'synap ingest notes.jsonl --scope customer=acme,team=payments,user=dana',
    against: 'scoped',
    check: ok,
  },
  ...[
    'synap ingest chats.jsonl --shard 2/8',
    'JOB_COMPLETION_INDEX=2 synap ingest chats.jsonl --shards 8',
    'synap ingest --files-from tenants.txt --shard-by file --shard 2/8',
    'synap ingest chats.jsonl --shards 8 --shard-report',
  ].map((readme) => ({
    readme,
    skip: 'sharding: test/e2e/ingest-shards.test.ts and ingest-shard-files.test.ts run it',
  })),
  // docs/export-and-migrate.md
  {
    readme: 'synap memories list --page 2 --page-size 50',
    check: (r) => {
      ok(r);
      expect(r.stdout.trim().split('\n').length).toBeGreaterThan(0);
    },
  },
  {
    readme: 'synap memories list --all --output csv > memories.csv',
    check: ok,
  },
  {
    readme: 'synap memories get <memory_id>',
    run: 'synap memories get "$MEMORY_ID"',
    check: (r) => {
      ok(r);
      expect(r.stdout).toContain('memory_id');
    },
  },
  {
    readme: 'synap memories update <memory_id> --document "new text" --merge-strategy replace',
    run: 'synap memories update "$MEMORY_ID" --document "new text" --merge-strategy replace',
    check: ok,
  },
  {
    readme: 'synap memories delete <memory_id…> --yes',
    run: 'synap memories delete "$OTHER_MEMORY_ID" "$THIRD_MEMORY_ID" --yes',
    check: (r) => {
      ok(r);
      expect(r.stdout.trim().split('\n')).toHaveLength(2);
    },
  },
  {
    readme: 'synap memories status <ingestion_id…> --wait',
    run: 'synap memories status "$INGESTION_ID" --wait',
    check: (r) => {
      ok(r);
      expect(r.stdout).toContain('completed');
    },
  },
  { readme: 'synap export -o backup.jsonl', check: ok },
  {
    readme: 'synap export | jq -r .content',
    check: (r) => {
      ok(r);
      expect(r.stdout).toContain('new text');
    },
  },
  {
    readme: 'synap migrate --from staging --to prod',
    // The profiles' own keys and base URLs, not the environment's.
    run: '(unset SYNAP_API_KEY SYNAP_BASE_URL; synap migrate --from staging --to prod)',
    check: ok,
  },
  {
    readme: 'synap migrate --from staging --to prod --max-duration 30m',
    // Run after the migration above: everything is held by the target, nothing is sent.
    run: '(unset SYNAP_API_KEY SYNAP_BASE_URL; synap migrate --from staging --to prod --max-duration 30m)',
    check: (r) => {
      ok(r);
      expect(r.stderr).toMatch(/sent:\s+0\b/);
    },
  },
  { readme: 'synap credits', check: ok },
  { readme: 'synap credits ledger --entry-type usage --limit 50 --offset 50', check: ok },
  {
    readme: 'synap credits ledger --from 2026-01-01 --to 2026-01-31T23:59:59Z --all --json',
    check: (r) => {
      ok(r);
      expect(JSON.parse(r.stdout).status).toBe('ok');
    },
  },
  // docs/exit-codes-and-json.md
  {
    readme: "synap --json memories list --page-size 2 | jq -c '.result | {page, total}'",
    check: (r) => {
      ok(r);
      expect(r.stdout.trim()).toMatch(/^\{"page":1,"total":\d+\}$/);
    },
  },
  {
    readme: 'synap --json ingest data.jsonl | jq .result.failed',
    run: 'synap --json ingest data.jsonl --restart | jq .result.failed',
    // Exit 3 (pipefail) with the count of failed records on stdout.
    check: (r) => {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout.trim()).toBe('1');
    },
  },
  {
    readme: 'synap --json memories get 00000000-0000-4000-8000-000000000000',
    check: (r) => {
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'NOT_FOUND', exit_code: 1 });
    },
  },
  // docs/emulator.md: each runs until Ctrl-C (see emulatorExamples below).
  ...[
    'npx synap emulator',
    'npx synap emulator --port 0 --db :memory: --tier unlimited --processing-delay 0',
    'npx synap emulator --tier pro --fail-rate 0.05 --reset-rate 0.01 --seed 7',
    'npx synap emulator --spike-rate 0.02 --spike-ms 3000 --storm-rate 0.01 --storm-ms 5000',
    'npx synap emulator --credits 500 --credit-stop trial_limit_reached',
    'npx synap emulator --isolation equals_customer --scoping customer,team,user',
  ].map((readme): Example => ({ readme, server: true })),
  // README: development
  ...['npm run build', 'npm run lint', 'npm run bench', 'npm run soak'].map((readme) => ({
    readme,
    skip: 'the project’s own scripts (CI runs build, lint, test)',
  })),
];

/** The entries whose page is in this checkout. */
const EXAMPLES = ALL_EXAMPLES.filter((e) => e.page === undefined || existsSync(join(ROOT, e.page)));

/** `npx synap …` runs the built binary, like `synap …`. */
const shellLine = (e: Example) => (e.run ?? e.readme).replace(/^npx synap\b/, 'synap');

const jsonl = (records: object[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe("the README's and docs pages' examples", () => {
  const sandbox = makeSandbox();
  const repo = join(sandbox.dir, 'repo');
  let emu: RunningEmulator;
  let prod: RunningEmulator;
  let scoped: RunningEmulator;
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' });

  beforeAll(async () => {
    [emu, prod, scoped] = await Promise.all([
      startEmulator({ processingDelayMs: 0 }),
      startEmulator({ processingDelayMs: 0 }),
      startEmulator({ processingDelayMs: 0, scopeLevels: ['customer', 'team', 'user'] }),
    ]);
    // A checkout's files that matter here, and the user's own data the examples name.
    mkdirSync(repo);
    cpSync(join(ROOT, '.gitignore'), join(repo, '.gitignore'));
    cpSync(join(ROOT, 'samples'), join(repo, 'samples'), { recursive: true });
    const chats = Array.from({ length: 60 }, (_, i) => ({
      document: `chat ${i}: the customer asked about invoice ${1000 + i}`,
      user_id: `u${i % 4}`,
      customer_id: 'acme',
    }));
    writeFileSync(join(repo, 'chats.jsonl'), jsonl(chats));
    writeFileSync(
      join(repo, 'tickets.csv'),
      'ticket_id,requester_email,org,body,priority\n' +
        't-1,ana@example.com,acme,Printer on fire,high\n' +
        't-2,bo@example.com,globex,"Refund, please",low\n',
    );
    writeFileSync(
      join(repo, 'dump.jsonl.gz'),
      gzipSync(jsonl([{ document: 'from a dump' }, { document: 'another line of the dump' }])),
    );
    writeFileSync(
      join(repo, 'data.jsonl'),
      jsonl([
        { document: 'data one' },
        { document: 'data two', document_type: 'spreadsheet' },
        { document: 'data three' },
      ]),
    );
    writeFileSync(join(repo, 'notes.jsonl'), jsonl([{ document: 'a note for dana' }]));
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'data');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([emu?.close(), prod?.close(), scoped?.close()]);
    sandbox.cleanup();
  });

  it('the pages with tests of their own have them', () => {
    for (const test of Object.values(OWN_TEST))
      expect(existsSync(join(ROOT, test)), test).toBe(true);
  });

  it('every documented command is listed here, run or skipped with a reason', () => {
    const documented = documentedCommands();
    const listed = EXAMPLES.map((e) => e.readme);
    expect(documented.filter((c) => !listed.includes(c))).toEqual([]);
    expect(listed.filter((c) => !documented.includes(c))).toEqual([]);
  });

  it('the README links every docs page', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const pages = docPages().filter((p) => p !== 'README.md');
    expect(pages.filter((p) => !readme.includes(`](${p})`))).toEqual([]);
  });

  it('run as written, they do what the pages say and leave no untracked files', async () => {
    const env = {
      ...sandbox.env,
      SYNAP_BASE_URL: emu.url,
      SYNAP_API_KEY: emu.apiKey,
      KEY: emu.apiKey,
    };
    const sh = (line: string, extra: Record<string, string> = {}) =>
      runShell(line, { cwd: repo, env: { ...env, ...extra }, timeoutMs: 90_000 });
    // Profiles for migrate, set up as `synap auth login --help` and `config set` describe.
    for (const [name, server] of [
      ['staging', emu],
      ['prod', prod],
    ] as const) {
      const set = await sh(`synap config set base_url ${server.url} --profile ${name}`);
      expect(set.code, set.stderr).toBe(0);
      const login = await runShell(
        `(unset SYNAP_API_KEY SYNAP_BASE_URL; synap auth login --api-key-stdin --profile ${name})`,
        { cwd: repo, env, input: server.apiKey },
      );
      expect(login.code, login.stderr).toBe(0);
    }
    for (const e of EXAMPLES) {
      if (e.skip !== undefined || e.server) continue;
      const ids = await idsFor(emu);
      const extra: Record<string, string> = { ...ids };
      if (e.against === 'scoped') {
        extra.SYNAP_BASE_URL = scoped.url;
        extra.SYNAP_API_KEY = scoped.apiKey;
      }
      const r = await sh(shellLine(e), extra);
      try {
        e.check?.(r);
      } catch (err) {
        throw new Error(`documented example failed: ${e.readme}\n${(err as Error).message}`);
      }
    }
    // What the examples were asked to write is there; state, failures and locks are ignored.
    const untracked = git('status', '--porcelain', '--untracked-files=all')
      .split('\n')
      .filter((l) => l !== '');
    expect(untracked).toEqual(['?? backup.jsonl', '?? memories.csv']);
    expect(prod.documents().length).toBeGreaterThan(0);
  }, 600_000);

  it.each(EXAMPLES.filter((e) => e.server).map((e) => e.readme))(
    '%s: starts, prints its address and key, stops on Ctrl-C with exit 0',
    async (line) => {
      const args = line.replace(/^npx synap /, '').split(' ');
      // Port 8787 may be taken on a shared machine: any free one does here.
      if (!args.includes('--port')) args.push('--port', '0');
      const server = spawnCli(args, { env: sandbox.env, timeoutMs: 60_000 });
      const deadline = Date.now() + 30_000;
      try {
        const banner = () => server.stdout() + server.stderr();
        // The URL and key come on stdout, "Ctrl-C" on stderr: two pipes, either order.
        while (!banner().includes('Press Ctrl-C to stop.') || !banner().includes('API key:')) {
          if (Date.now() > deadline) throw new Error(`no banner: ${server.stderr()}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(banner())?.[1];
        const key = /API key:\s+(synap_\w+)/.exec(banner())?.[1];
        expect(url).toBeDefined();
        // It answers with the key it printed (a few tries: some examples inject 503s, and 429
        // storms that last seconds, waited out as their Retry-After says).
        let status = 0;
        for (let i = 0; i < 10 && status !== 200; i++) {
          const whoami = await fetch(`${url!}/api/v1/auth/whoami`, {
            headers: { authorization: `Bearer ${key!}` },
          });
          status = whoami.status;
          const retryAfter = Number(whoami.headers.get('retry-after'));
          if (status === 429 && retryAfter > 0 && retryAfter <= 10) {
            await new Promise((r) => setTimeout(r, retryAfter * 1000));
          }
        }
        expect(status).toBe(200);
      } catch (err) {
        // A failed check must not leave the server running.
        server.child.kill('SIGKILL');
        throw err;
      }
      server.child.kill('SIGINT');
      const r = await server.done;
      expect(r.code, r.stderr).toBe(0);
    },
    60_000,
  );
});

/** Placeholder values: ids of memories and ingestions the emulator holds. */
async function idsFor(emu: RunningEmulator): Promise<Record<string, string>> {
  const docs = emu.documents();
  const res = await fetch(`${emu.url}/api/v1/memories?page=1&page_size=3`, {
    headers: { authorization: `Bearer ${emu.apiKey}` },
  });
  const list = (await res.json()) as { data?: { memory_id: string }[] };
  return {
    MEMORY_ID: list.data?.[0]?.memory_id ?? '',
    OTHER_MEMORY_ID: list.data?.[1]?.memory_id ?? '',
    THIRD_MEMORY_ID: list.data?.[2]?.memory_id ?? '',
    INGESTION_ID: docs[0]?.ingestion_id ?? '',
  };
}
