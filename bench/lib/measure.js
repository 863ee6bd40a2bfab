// Figures computed from the emulator-side request log (see emulator-thread.js).

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export function mean(values) {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

export function round(x, digits = 2) {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Indices of log entries matching a kind ('b', 'c', 'l', 'o' or undefined for all). */
export function entries(log, kind) {
  const out = [];
  for (let i = 0; i < log.arrived.length; i++) if (!kind || log.kind[i] === kind) out.push(i);
  return out;
}

/** First and last arrival among the given entries. */
export function span(log, idx) {
  let first = Infinity;
  let last = -Infinity;
  for (const i of idx) {
    if (log.arrived[i] < first) first = log.arrived[i];
    if (log.arrived[i] > last) last = log.arrived[i];
  }
  return { first, last };
}

/** Counts by status of entries arriving in [from, to). */
export function countIn(log, idx, from = -Infinity, to = Infinity) {
  const out = { total: 0, ok: 0, rateLimited: 0, other: 0 };
  for (const i of idx) {
    const t = log.arrived[i];
    if (t < from || t >= to) continue;
    out.total += 1;
    const s = log.status[i];
    if (s >= 200 && s < 300) out.ok += 1;
    else if (s === 429) out.rateLimited += 1;
    else out.other += 1;
  }
  return out;
}

/**
 * Time-weighted mean number of requests in flight at the server, per bucket of `bucketMs`,
 * from `from` to `to` (each request counts from arrival to the end of its answer).
 */
export function inFlightSeries(log, idx, from, to, bucketMs = 1000) {
  const n = Math.max(1, Math.ceil((to - from) / bucketMs));
  const busy = new Array(n).fill(0);
  for (const i of idx) {
    const a = Math.max(from, log.arrived[i]);
    const e = Math.min(to, log.ended[i] || to);
    for (let b = Math.floor((a - from) / bucketMs); b < n && from + b * bucketMs < e; b++) {
      const lo = Math.max(a, from + b * bucketMs);
      const hi = Math.min(e, from + (b + 1) * bucketMs);
      if (hi > lo) busy[b] += hi - lo;
    }
  }
  return busy.map((ms) => ms / bucketMs);
}

/** Mean time from arrival to the end of the answer, in ms, over the given entries. */
export function meanLatencyMs(log, idx) {
  const d = [];
  for (const i of idx) if (log.ended[i]) d.push(log.ended[i] - log.arrived[i]);
  return mean(d);
}

/** Mean time from hand-over to the emulator (after any injected delay) to the end of the answer. */
export function meanServiceMs(log, idx) {
  const d = [];
  for (const i of idx) if (log.ended[i] && log.started[i]) d.push(log.ended[i] - log.started[i]);
  return mean(d);
}

/** When the answer to the last accepted (2xx) request among `idx` ended, epoch ms. */
export function lastAcceptedEnd(log, idx) {
  let last = -Infinity;
  for (const i of idx) {
    const s = log.status[i];
    if (s >= 200 && s < 300 && log.ended[i] > last) last = log.ended[i];
  }
  return last;
}
