// Scenario "startup": how long the CLI takes to answer when it has nothing to do. `synap
// --version`, `synap --help` and `synap memories list --help` against `node -e 0` (a Node.js
// process that loads nothing), each spawned the same way, in rounds that run all four one after
// the other (rotating the order), so a shared machine's load falls on each alike. Figures are
// ratios of medians: startup that grows with every command module or package loaded eagerly
// shows here, whatever the machine's speed.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BIN, cleanEnv } from '../lib/cli.js';
import { median, round } from '../lib/measure.js';

const COMMANDS = [
  { key: 'node', label: 'node -e 0', args: ['-e', '0'] },
  { key: 'version', label: 'synap --version', args: [BIN, '--version'] },
  { key: 'help', label: 'synap --help', args: [BIN, '--help'] },
  {
    key: 'listHelp',
    label: 'synap memories list --help',
    args: [BIN, 'memories', 'list', '--help'],
  },
];

function timeOnce(args, env) {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) {
    throw new Error(`${args.join(' ')}: exit ${r.status} ${r.signal ?? ''}: ${r.stderr}`);
  }
  return ms;
}

export async function scenarioStartup(ctx) {
  const rounds = ctx.quick ? 10 : 40;
  const env = cleanEnv(ctx.dir('startup'));
  // One warm-up round: the first spawn pays for cold file caches.
  for (const c of COMMANDS) timeOnce(c.args, env);
  const times = Object.fromEntries(COMMANDS.map((c) => [c.key, []]));
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < COMMANDS.length; j++) {
      const c = COMMANDS[(i + j) % COMMANDS.length];
      times[c.key].push(timeOnce(c.args, env));
    }
  }
  const ms = Object.fromEntries(COMMANDS.map((c) => [c.key, round(median(times[c.key]), 1)]));
  const ratio = (key) => round(ms[key] / ms.node, 2);
  const row = (key, target) => ({
    scenario: 'startup',
    figure: `${COMMANDS.find((c) => c.key === key).label} ÷ node -e 0 (${ms[key]} / ${ms.node} ms, median of ${rounds})`,
    value: ratio(key),
    target: target === undefined ? 'info' : `≤ ${target}`,
    pass: target === undefined ? null : ratio(key) <= target,
  });
  return {
    rows: [row('version', 1.6), row('listHelp', 2), row('help', 2)],
    details: { rounds, median_ms: ms, times_ms: times },
  };
}
