import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { makeSandbox } from '../helpers/cli.js';
import { seedMemories } from '../helpers/export.js';
import { runInProcess } from '../helpers/in-process.js';
import { writeChatFile } from '../helpers/ingest.js';
import { ptyUnavailableReason, startCliInPty, terminalScreen } from '../helpers/tty.js';

/**
 * Every command that draws progress or pages through a long listing (ingest, its --wait,
 * export to a file and to a pipe, migrate, memories list --all, memories status --wait), in
 * terminals of every size: 0 x 0 (what a new pty
 * reports until someone sets it: `docker run -t`, `script`, some CI runners), 1 x 1, 20 x 5,
 * 300 x 100, and one that is made narrower while the progress line is on screen. Each run is
 * stopped with Ctrl-C once it is busy: it must stop within a second with exit 130, write a
 * bounded amount, leave no progress line (nor a piece of one) on the screen, and leave only
 * whole lines in a pipe.
 */

const noPty = ptyUnavailableReason();
if (noPty) console.log(`skipping terminal size tests: ${noPty}`);

// On a developer's machine without util-linux `script` the matrix is skipped; in CI (CI set,
// as CI services do) it must run, so a runner without a pty fails here instead of passing it by.
it.runIf(process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false')(
  'CI can run the terminal size matrix (util-linux script is installed)',
  () => {
    expect(noPty).toBeUndefined();
  },
);

/** The spinner's frames: a screen row holding one is a progress line still on screen. */
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
/** What a run of a couple of seconds may write to the terminal, summary included. */
const MAX_OUTPUT = 64 * 1024;

const SIZES = [
  { columns: 0, rows: 0 },
  { columns: 1, rows: 1 },
  { columns: 20, rows: 5 },
  { columns: 300, rows: 100 },
];

interface Case {
  name: string;
  /**
   * Arguments and environment of the run, the server whose requests say it is busy (with
   * `route`: requests of that route, e.g. the status polls of a wait), and whether stdout goes
   * to a pipe (`synap … | cat`), the progress staying on the terminal.
   */
  setup(): Promise<{
    args: string[];
    env: Record<string, string>;
    busy: RunningEmulator;
    route?: string;
    stdoutToPipe?: boolean;
  }>;
}

describe.skipIf(noPty)('progress in terminals of every size', () => {
  const box = makeSandbox();
  const servers: RunningEmulator[] = [];
  const start = async (opts: Parameters<typeof startEmulator>[0]) => {
    const emu = await startEmulator(opts);
    servers.push(emu);
    return emu;
  };
  /**
   * A source of its own for a run that is watched for being busy: runs started together on one
   * server would count each other's requests, and one could be stopped before it is running.
   */
  const ownSource = async () => {
    const emu = await start({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 40 });
    await seedMemories(emu, 300, 'm');
    return emu;
  };
  /** A server of its own (as above) holding an ingestion that stays pending, and its id. */
  const ownPending = async () => {
    const emu = await start({ processingDelayMs: 600_000, tier: 'unlimited' });
    const res = await fetch(`${emu.url}/api/v1/memories/create`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ document: 'still processing', document_id: 'p-1' }),
    });
    const ingestionId = ((await res.json()) as { ingestion_id: string }).ingestion_id;
    expect(ingestionId).toBeTruthy();
    return { emu, ingestionId };
  };
  const envFor = (emu: RunningEmulator) => ({
    ...box.env,
    SYNAP_API_KEY: emu.apiKey,
    SYNAP_BASE_URL: emu.url,
  });
  let source: RunningEmulator;
  /** A profile directory with "src" (the source) and one "dst-N" per migrate run. */
  let migrateConfig: string;
  /** The migrate runs' targets, one per run, each taken by one run's setup. */
  const migrateTargets: { profile: string; emu: RunningEmulator }[] = [];

  beforeAll(async () => {
    // A source of memories to migrate.
    source = await start({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 40 });
    await seedMemories(source, 300, 'm');

    // Logged in here, in this process and before the runs start: the runs are concurrent and an
    // in-process run (test/helpers/in-process.ts) swaps process-wide properties.
    migrateConfig = mkdtempSync(join(box.dir, 'config-'));
    for (let i = 0; i <= SIZES.length; i++) {
      const emu = await start({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 40 });
      migrateTargets.push({ profile: `dst-${i}`, emu });
    }
    for (const { profile, emu } of [{ profile: 'src', emu: source }, ...migrateTargets]) {
      const login = await runInProcess(
        ['--profile', profile, '--base-url', emu.url, 'auth', 'login', '--api-key-stdin'],
        { env: { ...box.env, SYNAP_CONFIG_DIR: migrateConfig }, input: emu.apiKey },
      );
      expect(login.code, login.stderr).toBe(0);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    box.cleanup();
  });

  const CASES: Case[] = [
    {
      name: 'ingest',
      async setup() {
        const emu = await start({ processingDelayMs: 0, tier: 'unlimited', latencyMs: 40 });
        const dir = mkdtempSync(join(box.dir, 'ingest-'));
        const file = writeChatFile(join(dir, 'chats.jsonl'), 2000, 'sz');
        return {
          args: ['ingest', file, '--batch-size', '1', '--concurrency', '1'],
          env: envFor(emu),
          busy: emu,
        };
      },
    },
    {
      name: 'export -o',
      async setup() {
        const dir = mkdtempSync(join(box.dir, 'export-'));
        const own = await ownSource();
        return {
          args: ['export', '-o', join(dir, 'out.jsonl'), '--page-size', '1'],
          env: envFor(own),
          busy: own,
        };
      },
    },
    {
      name: 'migrate',
      async setup() {
        const target = migrateTargets.shift();
        if (target === undefined) throw new Error('more migrate runs than targets');
        return {
          args: ['migrate', '--from', 'src', '--to', target.profile, '--batch-size', '1'],
          env: { ...box.env, SYNAP_CONFIG_DIR: migrateConfig },
          busy: target.emu,
        };
      },
    },
    {
      name: 'ingest --wait (waiting for processing)',
      async setup() {
        const emu = await start({ processingDelayMs: 600_000, tier: 'unlimited' });
        const dir = mkdtempSync(join(box.dir, 'ingest-wait-'));
        const file = writeChatFile(join(dir, 'chats.jsonl'), 20, 'wt');
        return {
          args: ['ingest', file, '--wait'],
          env: envFor(emu),
          busy: emu,
          route: 'status',
        };
      },
    },
    {
      name: 'export | cat',
      async setup() {
        const own = await ownSource();
        return {
          args: ['export', '--page-size', '1'],
          env: envFor(own),
          busy: own,
          stdoutToPipe: true,
        };
      },
    },
    {
      name: 'memories list --all | cat',
      async setup() {
        const own = await ownSource();
        return {
          args: ['memories', 'list', '--all', '--page-size', '1', '--output', 'jsonl'],
          env: envFor(own),
          busy: own,
          stdoutToPipe: true,
        };
      },
    },
    {
      name: 'memories status --wait',
      async setup() {
        const { emu, ingestionId } = await ownPending();
        return {
          args: ['memories', 'status', ingestionId, '--wait'],
          env: envFor(emu),
          busy: emu,
        };
      },
    },
  ];

  /** Waits until `emu` has answered `n` more requests (of `route`, if given) than when called. */
  async function busy(emu: RunningEmulator, n: number, route?: string): Promise<void> {
    const count = () =>
      route === undefined
        ? emu.stats().requests_total
        : (emu.stats().requests_by_endpoint[route] ?? 0);
    const from = count();
    const deadline = Date.now() + 20_000;
    while (count() < from + n) {
      if (Date.now() > deadline) throw new Error('the run sent no requests');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Starts the run, lets it work, optionally resizes, presses Ctrl-C; checks the stop. */
  async function run(
    c: Case,
    size: { columns: number; rows: number },
    resizes: { columns: number; rows: number }[] = [],
  ) {
    const { args, env, busy: server, route, stdoutToPipe } = await c.setup();
    const t = startCliInPty(args, { env, ...size, stdoutToPipe, timeoutMs: 30_000 });
    const ended = t.done();
    try {
      await busy(server, route === undefined ? 3 : 1, route);
      // A few frames of the spinner (it draws every 80 ms).
      await new Promise((r) => setTimeout(r, 300));
      for (const to of resizes) {
        await t.resize(to.columns, to.rows);
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(t.raw().length, 'output before Ctrl-C').toBeLessThan(MAX_OUTPUT);
      const pressed = Date.now();
      await t.type('\x03');
      const r = await ended;
      const tookMs = Date.now() - pressed;
      return { r, tookMs };
    } finally {
      await ended.catch(() => undefined);
    }
  }

  describe.each(CASES)('$name', (c) => {
    it.concurrent.each(SIZES)(
      '$columns x $rows: stops on Ctrl-C within a second, exit 130, bounded output, no progress left',
      async (size) => {
        const { r, tookMs } = await run(c, size);
        expect(r.signal, r.screen).toBeNull();
        expect(r.code, r.screen).toBe(130);
        expect(tookMs, r.screen).toBeLessThan(1000);
        expect(r.raw.length).toBeLessThan(MAX_OUTPUT);
        // What went to a pipe is whole lines of JSON: the stop came between rows.
        for (const line of r.stdout.split('\n').filter((l) => l !== '')) {
          expect(() => JSON.parse(line) as unknown, line).not.toThrow();
        }
        const screen = await terminalScreen(r.raw, size.columns, size.rows);
        expect(
          screen.filter((l) => SPINNER.test(l)),
          screen.join('\n'),
        ).toEqual([]);
      },
      40_000,
    );

    it.concurrent(
      'made narrower while drawing: no line wraps into a stale one, exit 130 within a second',
      async () => {
        const size = { columns: 120, rows: 30 };
        const { r, tookMs } = await run(c, size, [
          { columns: 50, rows: 20 },
          { columns: 23, rows: 10 },
        ]);
        expect(r.code, r.screen).toBe(130);
        expect(tookMs, r.screen).toBeLessThan(1000);
        const screen = await terminalScreen(r.raw, size.columns, size.rows);
        expect(
          screen.filter((l) => SPINNER.test(l)),
          screen.join('\n'),
        ).toEqual([]);
      },
      40_000,
    );
  });
});
