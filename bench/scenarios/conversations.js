// Scenario 9: conversation exports. A generated ChatGPT conversations.json of 1 GB and one of
// 100 MB (with --quick, or SYNAP_BENCH_CONV_MB=small,big: other sizes), bare and zipped, each
// read by `synap ingest --dry-run`: peak RSS of the big one within 1.2 × the small one (the
// export is streamed element by element, the zip entry inflated as it is read), and the CPU
// cost per conversation. The zip is written by the `zip` command when there is one.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { runSynap, summaryOf } from '../lib/cli.js';
import { round } from '../lib/measure.js';

const WORDS =
  'the a robin bread invoice river kettle garden plan budget ticket summary export lisbon rain answer question table chart migrate spring winter account report draft email schedule meeting'.split(
    ' ',
  );

/** A deterministic stream of words (xorshift), so runs compare. */
function words(seed) {
  let x = seed | 0 || 1;
  return (n) => {
    const out = [];
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out.push(WORDS[(x >>> 0) % WORDS.length]);
    }
    return out.join(' ');
  };
}

/** One conversation of ~8 KB: a system root, turns, a regenerated answer, a hidden node. */
function conversation(i, say) {
  const mapping = { root: { id: 'root', message: null, parent: null, children: ['sys'] } };
  mapping.sys = {
    id: 'sys',
    parent: 'root',
    children: ['m0'],
    message: {
      id: 'sys',
      author: { role: 'system' },
      content: { content_type: 'text', parts: [''] },
      metadata: { is_visually_hidden_from_conversation: true },
    },
  };
  let parent = 'sys';
  for (let t = 0; t < 10; t++) {
    const id = `m${t}`;
    const next = t < 9 ? [`m${t + 1}`] : [];
    if (t === 5) next.push('alt');
    mapping[id] = {
      id,
      parent,
      children: next,
      message: {
        id,
        author: { role: t % 2 === 0 ? 'user' : 'assistant' },
        create_time: 1_700_000_000 + i * 100 + t,
        content: { content_type: 'text', parts: [say(t % 2 === 0 ? 40 : 120)] },
        status: 'finished_successfully',
        metadata: {},
      },
    };
    parent = id;
  }
  mapping.alt = {
    id: 'alt',
    parent: 'm5',
    children: [],
    message: {
      id: 'alt',
      author: { role: 'assistant' },
      create_time: 1_700_000_000 + i * 100 + 6,
      content: { content_type: 'text', parts: [say(80)] },
      metadata: {},
    },
  };
  return {
    title: say(4),
    create_time: 1_700_000_000 + i * 100,
    update_time: 1_700_000_000 + i * 100 + 99,
    mapping,
    current_node: 'm9',
    id: `bench-${i}`,
  };
}

/** Writes conversations until the file holds about `mb` megabytes; returns how many. */
async function writeExport(path, mb) {
  const out = createWriteStream(path);
  const say = words(12345);
  let bytes = 0;
  let n = 0;
  let chunk = '[';
  while (bytes + chunk.length < mb * 1024 * 1024) {
    chunk += `${n === 0 ? '' : ','}${JSON.stringify(conversation(n, say))}`;
    n += 1;
    if (chunk.length > 1 << 20) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(`${chunk}]`);
  await once(out, 'finish');
  return n;
}

function haveZip() {
  try {
    execFileSync('zip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function dryRun(dir, file, conversations) {
  const run = await runSynap(['--json', 'ingest', file, '--dry-run'], {
    dir,
    timeoutMs: 3_600_000,
  });
  const s = summaryOf(run, 'synap ingest --dry-run');
  if (run.code !== 0 || s.sent !== conversations) {
    throw new Error(`dry run of ${file}: exit ${run.code}, ${s.sent} of ${conversations} sent`);
  }
  return {
    conversations,
    cpu_us_per_conversation: round((run.cpuMs * 1000) / conversations, 1),
    wall_s: round(run.wallMs / 1000, 1),
    peak_rss_mb: round(run.maxRssMb, 1),
  };
}

export async function scenarioConversations(ctx) {
  const sizes = process.env.SYNAP_BENCH_CONV_MB?.split(',').map(Number);
  const [smallMb, bigMb] = sizes?.length === 2 ? sizes : ctx.quick ? [20, 200] : [100, 1024];
  const dir = ctx.dir('s9');
  ctx.note(`scenario 9: generating conversations.json of ${smallMb} MB and ${bigMb} MB`);
  const small = join(dir, 'small', 'conversations.json');
  const big = join(dir, 'big', 'conversations.json');
  execFileSync('mkdir', ['-p', join(dir, 'small'), join(dir, 'big')]);
  const nSmall = await writeExport(small, smallMb);
  const nBig = await writeExport(big, bigMb);
  const mb = (p) => round(statSync(p).size / 1024 / 1024, 0);
  const bare = { small: await dryRun(dir, small, nSmall), big: await dryRun(dir, big, nBig) };
  let zipped;
  if (haveZip()) {
    ctx.note('scenario 9: zipping both');
    execFileSync('zip', ['-q', '-1', '-j', join(dir, 'small.zip'), small]);
    execFileSync('zip', ['-q', '-1', '-j', join(dir, 'big.zip'), big]);
    zipped = {
      small: await dryRun(dir, join(dir, 'small.zip'), nSmall),
      big: await dryRun(dir, join(dir, 'big.zip'), nBig),
    };
  } else ctx.note('scenario 9: no zip command; the zipped rows are left out');
  const n = (x) => x.toLocaleString('en-US');
  const rows = [];
  for (const [kind, r] of [
    ['bare', bare],
    ['zipped', zipped],
  ]) {
    if (!r) continue;
    const ratio = round(r.big.peak_rss_mb / r.small.peak_rss_mb, 2);
    rows.push(
      {
        scenario: '9',
        figure: `ChatGPT export ${kind}, peak RSS ${mb(big)} MB ÷ ${mb(small)} MB (${r.big.peak_rss_mb} / ${r.small.peak_rss_mb} MB)`,
        value: ratio,
        target: '≤ 1.2',
        pass: ratio <= 1.2,
      },
      {
        scenario: '9',
        figure: `ChatGPT export ${kind}, CPU µs/conversation (${n(nBig)} conversations, ${r.big.wall_s} s)`,
        value: r.big.cpu_us_per_conversation,
        target: 'info',
        pass: null,
      },
    );
  }
  return { rows, bare, zipped, sizes_mb: { small: mb(small), big: mb(big) } };
}
