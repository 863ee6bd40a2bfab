// Scenario mbox: a mailbox is read with flat memory. `synap ingest big.mbox --dry-run` splits,
// parses (MIME, charsets, HTML to text, attachments named) and maps every message and sends
// nothing; its peak RSS for a 1 GB generated mailbox must stay within 1.2 x that of a 100 MB one
// (--quick: 200 MB and 20 MB). Also reports the CPU cost per message.
//
// As in the export scenario: V8 grows its young generation (up to 16 MB semi-spaces) and lets
// old space and freed buffers grow with the allocation rate of a long run, which a shorter run
// never reaches; that growth is the collector's, not something kept per message. The judged row
// caps the nursery (--max-semi-space-size=4) for both runs, so what it measures is what grows
// with the input; the ratio with V8's defaults is printed as info.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { runSynap, summaryOf } from '../lib/cli.js';
import { round } from '../lib/measure.js';

const MB = 1024 * 1024;

/** A base64 body of `n` bytes, in 76-character lines. */
function base64Lines(n, seed) {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes.toString('base64').replace(/.{76}/g, '$&\n');
}

/**
 * Message i of the generated mailbox: plain text, multipart/alternative with HTML, HTML only in
 * windows-1252 quoted-printable, and one in ten with a 48 KB attachment; bodies hold mboxrd
 * `>From ` lines.
 */
function message(i) {
  const head =
    `From sender${i % 97}@example.com Mon Jan  1 00:00:00 2024\n` +
    `From: Sender ${i % 97} <sender${i % 97}@example.com>\n` +
    `To: Team <team@example.org>\n` +
    `Subject: Status report ${i}\n` +
    `Date: Mon, 1 Jan 2024 ${String(i % 24).padStart(2, '0')}:00:00 +0000\n` +
    `Message-ID: <m${i}@bench.example.com>\n` +
    (i > 0
      ? `In-Reply-To: <m${i - 1}@bench.example.com>\nReferences: <m0@bench.example.com>\n`
      : '') +
    'MIME-Version: 1.0\n';
  const text =
    `Hello team,\n\nThe build ${i} passed and the deploy went out on time.\n` +
    `>From the logs: ${i % 13} warnings, nothing new.\n\nRegards\n`;
  switch (i % 10) {
    case 0:
      return (
        head +
        'Content-Type: multipart/mixed; boundary="b1"\n\n--b1\nContent-Type: text/plain; charset=utf-8\n\n' +
        text +
        '--b1\nContent-Type: application/pdf\nContent-Disposition: attachment; filename="report.pdf"\n' +
        'Content-Transfer-Encoding: base64\n\n' +
        base64Lines(48 * 1024, i) +
        '\n--b1--\n\n'
      );
    case 1:
    case 2:
      return (
        head +
        'Content-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n' +
        `<html><body><h1>Report ${i}</h1><p>It=92s done &amp; shipped =96 see <a href=3D"https://example.org/${i}">details</a>.</p></body></html>\n\n`
      );
    case 3:
    case 4:
    case 5:
      return (
        head +
        'Content-Type: multipart/alternative; boundary="a1"\n\n--a1\nContent-Type: text/plain; charset=utf-8\n\n' +
        text +
        '--a1\nContent-Type: text/html; charset=utf-8\n\n<p>' +
        text.replace(/\n/g, '<br>') +
        '</p>\n--a1--\n\n'
      );
    default:
      return head + 'Content-Type: text/plain; charset=utf-8\n\n' + text + '\n';
  }
}

/** Writes messages until the file holds `bytes`; returns how many. */
export async function writeMbox(path, bytes) {
  const out = createWriteStream(path);
  let size = 0;
  let n = 0;
  while (size < bytes) {
    const m = message(n++);
    size += Buffer.byteLength(m);
    if (!out.write(m)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

const CAPPED_NURSERY = { NODE_OPTIONS: '--max-semi-space-size=4' };

async function dryRun(dir, file, messages, env = {}) {
  const run = await runSynap(['--json', 'ingest', file, '--dry-run'], {
    dir,
    env,
    timeoutMs: 3_600_000,
  });
  const s = summaryOf(run, 'synap ingest --dry-run (mbox)');
  if (run.code !== 0 || s.records_read !== messages || s.failed !== 0) {
    throw new Error(
      `dry run of ${file}: exit ${run.code}, ${s.records_read} read, ${s.failed} failed`,
    );
  }
  return {
    messages,
    peak_rss_mb: round(run.maxRssMb, 1),
    cpu_us_per_message: round((run.cpuMs * 1000) / messages, 1),
    wall_s: round(run.wallMs / 1000, 1),
  };
}

export async function scenarioMbox(ctx) {
  const bigBytes = (Number(process.env.BENCH_MBOX_MB) || (ctx.quick ? 200 : 1024)) * MB;
  const smallBytes = Math.round(bigBytes / 10);
  const dir = ctx.dir('mbox');
  ctx.note(
    `scenario mbox: generating ${Math.round(bigBytes / MB)} MB and ${Math.round(smallBytes / MB)} MB mailboxes`,
  );
  const small = await writeMbox(join(dir, 'small.mbox'), smallBytes);
  const big = await writeMbox(join(dir, 'big.mbox'), bigBytes);
  ctx.note('scenario mbox: dry runs, V8 nursery capped, then with its defaults');
  const sc = await dryRun(dir, join(dir, 'small.mbox'), small, CAPPED_NURSERY);
  const bc = await dryRun(dir, join(dir, 'big.mbox'), big, CAPPED_NURSERY);
  const s = await dryRun(dir, join(dir, 'small.mbox'), small);
  const b = await dryRun(dir, join(dir, 'big.mbox'), big);
  const ratio = round(bc.peak_rss_mb / sc.peak_rss_mb, 2);
  const ratioDefault = round(b.peak_rss_mb / s.peak_rss_mb, 2);
  const mb = (x) => Math.round(x / MB);
  const rows = [
    {
      scenario: 'mbox',
      figure: `mbox peak RSS ${mb(bigBytes)} MB ÷ ${mb(smallBytes)} MB, V8 nursery capped at 4 MB (${bc.peak_rss_mb} / ${sc.peak_rss_mb} MB)`,
      value: ratio,
      target: '≤ 1.2',
      pass: ratio <= 1.2,
    },
    {
      scenario: 'mbox',
      figure: `mbox peak RSS ${mb(bigBytes)} MB ÷ ${mb(smallBytes)} MB, V8 defaults (${b.peak_rss_mb} / ${s.peak_rss_mb} MB)`,
      value: ratioDefault,
      target: 'info',
      pass: null,
    },
    {
      scenario: 'mbox',
      figure: `mbox dry run, CPU µs/message (${big.toLocaleString('en-US')} messages, ${b.wall_s} s)`,
      value: b.cpu_us_per_message,
      target: 'info',
      pass: null,
    },
  ];
  return { rows, details: { small_capped: sc, big_capped: bc, small: s, big: b } };
}
