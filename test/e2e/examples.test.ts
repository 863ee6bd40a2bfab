import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { BIN, makeSandbox, runCli, runShell, spawnCli } from '../helpers/cli.js';
import { storedOnce, writeChatFile } from '../helpers/ingest.js';

const EXAMPLES = resolve(import.meta.dirname, '../../examples');
const N = 400;
/** Enough for several batches of 100 per shard, so a pod can be killed half-way. */
const N_JOB = 2000;
/**
 * The answers' latency (±50%) while the pod to be killed runs: its first answers come after
 * 0.4 s at the soonest and its batches after them a further 0.4 s at least, so it is killed
 * once it has saved progress and before it can finish.
 */
const LATENCY_MS = 800;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;

/** Every YAML document of a file, parsed as Kubernetes and Actions read them (YAML 1.2). */
function yamlDocs(path: string): Doc[] {
  return parseAllDocuments(readFileSync(path, 'utf8')).map((d) => {
    expect(d.errors, path).toEqual([]);
    return d.toJS();
  });
}

const k8s = (name: string) => yamlDocs(join(EXAMPLES, 'kubernetes', name));

/** The Job spec of a Job or of a CronJob's job template. */
function jobSpec(doc: Doc): Doc {
  return doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec : doc.spec;
}

/** Exit codes synap documents (docs/exit-codes-and-json.md). */
const EXIT_CODES = [0, 1, 2, 3, 4, 5, 6, 130, 143];

describe('examples/kubernetes', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  beforeEach(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
  });
  afterEach(async () => {
    await emu.close();
  });
  afterAll(() => sandbox.cleanup());

  const [secret] = k8s('secret.yaml');
  const [pvc] = k8s('pvc.yaml');

  it('the Secret and the shared volume are what the jobs refer to', () => {
    expect(secret).toMatchObject({ apiVersion: 'v1', kind: 'Secret' });
    expect(Object.keys(secret.stringData)).toEqual(['SYNAP_API_KEY']);
    expect(pvc).toMatchObject({ kind: 'PersistentVolumeClaim' });
    // Every shard mounts it at once, from any node.
    expect(pvc.spec.accessModes).toContain('ReadWriteMany');
  });

  for (const file of ['indexed-job.yaml', 'cronjob.yaml']) {
    describe(file, () => {
      const [doc] = k8s(file);
      const job = jobSpec(doc);
      const pod = job.template.spec;
      const container = pod.containers.find((c: Doc) => c.name === 'synap');

      it('is an Indexed Job whose pods run synap with the key from the Secret on the shared volume', () => {
        expect(doc.apiVersion).toBe('batch/v1');
        expect(job.completionMode).toBe('Indexed');
        const args: string[] = container.args;
        // The number of shards is the number of indexes; the index comes from Kubernetes.
        expect(Number(args[args.indexOf('--shards') + 1])).toBe(job.completions);
        expect(job.parallelism).toBe(job.completions);
        expect(args).toContain('--max-duration');
        expect(args).not.toContain('--shard');
        // podFailurePolicy needs restartPolicy Never; its exit codes are synap's.
        expect(pod.restartPolicy).toBe('Never');
        // A replacement pod has a new name, so the host name is fixed: the lock a killed pod
        // left (same host, same pid 1) is then an earlier life of the new one, taken over
        // (test/unit/ingest-lock-file.test.ts), and two pods of one index never run at once.
        expect(pod.hostname).toMatch(/^[a-z0-9-]+$/);
        expect(job.podReplacementPolicy).toBe('Failed');
        for (const rule of job.podFailurePolicy.rules) {
          if (rule.onExitCodes) {
            expect(rule.onExitCodes.containerName).toBe('synap');
            for (const code of rule.onExitCodes.values) expect(EXIT_CODES).toContain(code);
          }
        }
        const key = container.env.find((e: Doc) => e.name === 'SYNAP_API_KEY');
        expect(key.valueFrom.secretKeyRef).toEqual({
          name: secret.metadata.name,
          key: 'SYNAP_API_KEY',
        });
        // No key anywhere else in the manifest.
        expect(JSON.stringify(doc)).not.toMatch(/synap_[A-Za-z0-9]{8}/);
        const mount = container.volumeMounts.find((m: Doc) => m.mountPath === container.workingDir);
        const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
        expect(volume.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
      });

      it("runs the manifest's command line for every index against the emulator: each record once, and a killed pod resumes", async () => {
        // The volume: workingDir is a directory of the sandbox, the input at the same relative path.
        const volume = join(sandbox.dir, file.replace('.yaml', ''));
        const args: string[] = container.args;
        const input = args[1]!;
        mkdirSync(join(volume, input, '..'), { recursive: true });
        const tag = file.replace('.yaml', '');
        writeChatFile(join(volume, input), N_JOB, tag);
        const env = (index: number) => ({
          ...sandbox.env,
          SYNAP_API_KEY: emu.apiKey,
          SYNAP_BASE_URL: emu.url,
          JOB_COMPLETION_INDEX: String(index),
        });
        const indexes = Array.from({ length: job.completions as number }, (_, i) => i);

        // Index 1's first pod is killed once it has saved progress (a node lost, an OOM kill);
        // slow answers keep it running long enough. Once is enough: the CronJob's pods are
        // the same container on the same volume.
        const killOne = file === 'indexed-job.yaml';
        let killedAt = 0;
        if (killOne) {
          emu.setFaults({ latencyMs: LATENCY_MS });
          const first = spawnCli(args, { env: env(1), cwd: volume });
          const state = join(volume, `${input}.shard-1-of-${job.completions}.synap-state.json`);
          const settled = () => {
            try {
              return (JSON.parse(readFileSync(state, 'utf8')) as { settled_records: number })
                .settled_records;
            } catch {
              return 0;
            }
          };
          for (let i = 0; i < 800 && settled() === 0; i++) {
            await new Promise((r) => setTimeout(r, 25));
          }
          first.child.kill('SIGKILL');
          killedAt = Date.now();
          expect((await first.done).signal).toBe('SIGKILL');
          emu.setFaults({ latencyMs: 0 });
        }

        // Every index as Kubernetes starts them, the replacement pod of index 1 among them.
        const runs = await Promise.all(
          indexes.map((i) => runCli(args, { env: env(i), cwd: volume })),
        );
        for (const run of runs) expect(run.code, run.stderr).toBe(0);
        if (killOne) expect(runs[1]!.stderr).toMatch(/resum/i);
        const docs = emu.documents().filter((d) => d.document.startsWith(`User: ${tag} `));
        expect(storedOnce(docs)).toEqual({ distinct: N_JOB, duplicates: 0 });
        expect(
          readdirSync(join(volume, input, '..')).filter((f) => f.endsWith('.synap-lock')),
        ).toEqual([]);

        // A retried index (or the next night) finds its done file and sends no document
        // (the pre-flight whoami and credit questions are not writes).
        const writes = () => {
          const s = emu.stats();
          return [
            s.requests_by_endpoint.batch ?? 0,
            s.requests_by_endpoint.create ?? 0,
            s.documents_stored,
          ];
        };
        // The killed pod's last requests, held up to 1.5 × LATENCY_MS by the latency fault, still
        // reach the emulator (as they would a server): counted before, not as the retry's.
        const lastLanded = killedAt + 1.5 * LATENCY_MS + 100;
        await new Promise((r) => setTimeout(r, Math.max(0, lastLanded - Date.now())));
        const before = writes();
        const again = await runCli(args, { env: env(0), cwd: volume });
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).toContain('finished earlier by this shard');
        expect(writes()).toEqual(before);

        // The report the manifest's comment suggests.
        const report = await runCli(
          ['--json', 'ingest', input, '--shards', String(job.completions), '--shard-report'],
          { env: sandbox.env, cwd: volume },
        );
        expect(report.code, report.stderr).toBe(0);
        expect(JSON.parse(report.stdout).result).toMatchObject({
          status: 'completed',
          completed: job.completions,
          failed: 0,
        });
      }, 90_000);
    });
  }
});

describe('examples/github-actions', () => {
  const sandbox = makeSandbox();
  let emu: RunningEmulator;
  beforeEach(async () => {
    emu = await startEmulator({ processingDelayMs: 0 });
  });
  afterEach(async () => {
    await emu.close();
  });
  afterAll(() => sandbox.cleanup());

  it("runs each matrix job's synap step, then the report step, against the emulator", async () => {
    const [wf] = yamlDocs(join(EXAMPLES, 'github-actions', 'synap-backfill.yml'));
    const ingest = wf.jobs.ingest;
    const step = ingest.steps.find((s: Doc) => /^synap ingest/.test(s.run ?? ''));
    const report = wf.jobs.report.steps.find((s: Doc) => /^synap ingest/.test(s.run ?? ''));
    expect(ingest.env.SYNAP_API_KEY).toBe('${{ secrets.SYNAP_API_KEY }}');
    expect(wf.jobs.report.needs).toBe('ingest');
    const shards: number[] = ingest.strategy.matrix.shard;
    expect(shards).toEqual(Array.from({ length: wf.env.SHARDS }, (_, i) => i));
    mkdirSync(join(sandbox.dir, wf.env.INPUT, '..'), { recursive: true });
    writeChatFile(join(sandbox.dir, wf.env.INPUT), N, 'gha');
    const env = {
      ...sandbox.env,
      ...Object.fromEntries(Object.entries(wf.env).map(([k, v]) => [k, String(v)])),
      SYNAP_API_KEY: emu.apiKey,
      SYNAP_BASE_URL: emu.url,
    };
    const runs = await Promise.all(
      shards.map((shard) =>
        runShell(step.run.replaceAll('${{ matrix.shard }}', String(shard)), {
          env,
          cwd: sandbox.dir,
        }),
      ),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const docs = emu.documents().filter((d) => d.document.startsWith('User: gha '));
    expect(storedOnce(docs)).toEqual({ distinct: N, duplicates: 0 });
    // What the cache and artifact steps keep: this shard's files, by their glob.
    const save = ingest.steps.find((s: Doc) => s.uses?.startsWith('actions/cache/save'));
    // A lock is left out: a killed job's lock would hold the shard on the next runner.
    expect(save.with.path.trim().split('\n')).toEqual([
      'backfill/*.shard-${{ matrix.shard }}-of-*',
      '!backfill/*.synap-lock',
    ]);
    const upload = ingest.steps.find((s: Doc) => s.uses?.startsWith('actions/upload-artifact'));
    expect(upload.with.path).toBe(save.with.path);
    const done = readdirSync(join(sandbox.dir, 'backfill')).filter((f) => f.includes('.shard-'));
    expect(done.sort()).toEqual(shards.map((s) => `chats.jsonl.shard-${s}-of-4.synap-done.json`));
    const merged = await runShell(report.run, { env, cwd: sandbox.dir });
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toContain('status: completed');
  }, 90_000);
});

describe('examples/parallel/backfill.sh', () => {
  const sandbox = makeSandbox();
  afterAll(() => sandbox.cleanup());
  let hasParallel = true;
  try {
    execFileSync('parallel', ['--version'], { stdio: 'ignore' });
  } catch {
    hasParallel = false;
  }

  // GNU parallel is not installed everywhere (CI installs only npm packages).
  it.skipIf(!hasParallel)(
    'runs 4 shards with GNU parallel and exits with the report',
    async () => {
      const emu = await startEmulator({ processingDelayMs: 0 });
      try {
        writeChatFile(join(sandbox.dir, 'chats.jsonl'), N, 'par');
        const bin = join(sandbox.dir, 'bin');
        mkdirSync(bin);
        writeFileSync(join(bin, 'synap'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, {
          mode: 0o755,
        });
        const run = await runShell(
          `PATH="${bin}:$PATH" bash "${join(EXAMPLES, 'parallel', 'backfill.sh')}" chats.jsonl 4`,
          {
            env: { ...sandbox.env, SYNAP_API_KEY: emu.apiKey, SYNAP_BASE_URL: emu.url },
            cwd: sandbox.dir,
          },
        );
        expect(run.code, run.stderr).toBe(0);
        expect(run.stderr).toMatch(/^shard 3\t/m);
        expect(run.stdout).toContain('shards completed: 4 of 4');
        const docs = emu.documents().filter((d) => d.document.startsWith('User: par '));
        expect(storedOnce(docs)).toEqual({ distinct: N, duplicates: 0 });
      } finally {
        await emu.close();
      }
    },
    90_000,
  );
});
