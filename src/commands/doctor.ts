import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { DoctorCheck, DoctorReport } from '../output/doctor.js';
import type { CommandSpec } from './run.js';

/** Beyond this, Retry-After dates and X-RateLimit-Reset times are read wrong. */
const MAX_CLOCK_SKEW_S = 10;

/**
 * `synap doctor`: checks the set-up from config to server, one line each, and exits 1 when any
 * check fails. Each call is made once (no retries), so a server that does not answer is reported
 * within one request timeout rather than after a backoff.
 */
export const doctorCommand: CommandSpec<Record<string, never>, [], DoctorReport> = {
  declare: (cmd: Command) =>
    cmd.addHelpText(
      'after',
      `
Checks, one line each with ✓ or ✗: the config file and profile; the API key (present,
and accepted by whoami); the base URL (reachable, with the latency); the rate limit from the
X-RateLimit-* headers; the credits balance; the clock against the server's Date header
(more than ${MAX_CLOCK_SKEW_S} s apart is a ✗); write access to the config and data directories and the
current directory (state and failures files go next to the input). Exit 1 on any ✗.

Examples:
  $ synap doctor
  $ synap doctor --profile staging
  $ synap --json doctor | jq '.result.checks[] | select(.ok | not)'`,
    ),

  async run(ctx) {
    const checks: DoctorCheck[] = [];
    const add = (check: string, ok: boolean, detail: string) => checks.push({ check, ok, detail });
    const { DEFAULT_RETRY_POLICY } = await import('../client/retry-policy.js');
    const { maskKey } = await import('../redact.js');
    const { configDir, openStore } = await import('../config/store.js');
    const profile = ctx.globals.profile;

    try {
      const store = await openStore();
      if (store.problem !== undefined) add('config', false, store.problem);
      else
        add(
          'config',
          true,
          `profile "${profile}"${store.hasProfile(profile) ? '' : ' (not stored)'}, ` +
            `${store.path}${existsSync(store.path) ? '' : ' (not created yet)'}`,
        );
    } catch (err) {
      add('config', false, `${await configDir()}: ${messageOf(err)}`);
    }

    let session;
    try {
      session = await ctx.session({
        retry: {
          ...DEFAULT_RETRY_POLICY,
          attempts: 1,
          rateLimit: { ...DEFAULT_RETRY_POLICY.rateLimit, maxWaits: 0 },
          attemptTimeoutMs: 10_000,
        },
      });
      add('api key', true, `${maskKey(session.apiKey)} from ${session.keySource}`);
    } catch (err) {
      add('api key', false, messageOf(err));
    }

    if (session) {
      const started = Date.now();
      let reachable = false;
      try {
        await session.client.health();
        reachable = true;
        add('base url', true, `${session.baseUrl} answered in ${Date.now() - started} ms`);
      } catch (err) {
        const status = (err as { status?: unknown }).status;
        // A server that answers /health with an HTTP error is still reachable.
        reachable = typeof status === 'number';
        add('base url', reachable, `${session.baseUrl}: ${messageOf(err)}`);
      }

      if (reachable) {
        const sent = Date.now();
        try {
          const who = await session.client.whoami();
          const received = Date.now();
          add(
            'key accepted',
            true,
            `instance ${String(who.data.instance_id)}, client ${String(who.data.client_id)}`,
          );
          add('rate limit', true, rateLimitDetail(who.headers));
          const skew = clockSkewSeconds(who.headers?.get('date') ?? null, sent, received);
          if (skew === undefined) add('clock', true, 'the server sent no Date header');
          else {
            add(
              'clock',
              Math.abs(skew) <= MAX_CLOCK_SKEW_S,
              Math.abs(skew) <= 1
                ? 'in step with the server (within 1 s)'
                : `${Math.abs(skew).toFixed(0)} s ${skew > 0 ? 'behind' : 'ahead of'} the server`,
            );
          }
        } catch (err) {
          add('key accepted', false, messageOf(err));
        }
        try {
          const balance = await session.client.creditsBalance();
          const credits = (balance.data as { balance_credits?: unknown }).balance_credits;
          add(
            'credits',
            true,
            typeof credits === 'number'
              ? `${credits.toLocaleString('en-US')} credits`
              : 'no balance in the answer',
          );
        } catch (err) {
          // A 404 or 405 on the credits route: a deployment without credits, not a fault.
          const { routeMissing } = await import('../client/errors.js');
          if (routeMissing(err)) add('credits', true, 'not offered by this server');
          else add('credits', false, messageOf(err));
        }
      }
    }

    const envPaths = (await import('env-paths')).default;
    for (const [name, dir] of [
      ['config dir', await configDir()],
      ['data dir', envPaths('synap', { suffix: '' }).data],
      ['current dir', process.cwd()],
    ] as const) {
      const problem = await writeProblem(dir);
      add(name, problem === undefined, problem ?? `${dir} is writable`);
    }

    const ok = checks.every((c) => c.ok);
    return { result: { ok, checks }, exitCode: ok ? ExitCode.OK : ExitCode.FAILURE };
  },

  render: async (report, view) => (await import('../output/doctor.js')).printDoctor(report, view),
};

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The limits the server announced, e.g. "up to 600 requests (pro tier: 600/min), 598 available
 * now, resets in 41 s". One answer cannot tell a token bucket from a fixed window, so the
 * wording fits both.
 */
function rateLimitDetail(headers: { get(name: string): string | null } | undefined): string {
  const limit = headers?.get('x-ratelimit-limit');
  if (!limit) return 'no X-RateLimit headers: the limit is learnt from 429s';
  const remaining = headers?.get('x-ratelimit-remaining');
  const reset = Number(headers?.get('x-ratelimit-reset'));
  const tier =
    limit === '60' ? ' (free tier: 60/min)' : limit === '600' ? ' (pro tier: 600/min)' : '';
  const resetIn =
    Number.isFinite(reset) && reset > 0
      ? Math.max(0, Math.round(reset - Date.now() / 1000))
      : undefined;
  const grouped = (n: string) => (/^\d+$/.test(n) ? Number(n).toLocaleString('en-US') : n);
  return (
    `up to ${grouped(limit)} requests${tier}` +
    (remaining ? `, ${grouped(remaining)} available now` : '') +
    (resetIn !== undefined ? `, resets in ${resetIn} s` : '')
  );
}

/**
 * Seconds the local clock is behind the server's (negative: ahead), from the Date header and
 * the midpoint of the request; the header's 1 s resolution bounds the precision.
 */
function clockSkewSeconds(
  date: string | null,
  sentMs: number,
  receivedMs: number,
): number | undefined {
  if (!date) return undefined;
  const server = Date.parse(date);
  if (Number.isNaN(server)) return undefined;
  // The header is truncated to the second: compare with the middle of that second.
  return (server + 500 - (sentMs + receivedMs) / 2) / 1000;
}

/** Why files cannot be created in `dir` (or in the nearest existing parent it would be made in). */
async function writeProblem(dir: string): Promise<string | undefined> {
  const { access, constants, mkdtemp, rm } = await import('node:fs/promises');
  const { dirname, join } = await import('node:path');
  let target = dir;
  while (!existsSync(target)) {
    const parent = dirname(target);
    if (parent === target) return `${dir}: no existing parent directory`;
    target = parent;
  }
  try {
    await access(target, constants.W_OK);
    // Permission bits do not tell everything (root, read-only mounts): create something.
    await rm(await mkdtemp(join(target, '.synap-doctor-')), { recursive: true });
    return undefined;
  } catch (err) {
    return `${target} is not writable (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})`;
  }
}
