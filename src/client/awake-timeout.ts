/**
 * Calls `onTimeout` once `ms` of running time has passed without `clear()`. Time the process
 * spent not running (SIGSTOP, a laptop asleep, a stalled event loop) counts as one step only,
 * and a time-out is never declared in the same turn that noticed such a gap: an answer that
 * arrived meanwhile is read first (timers run before sockets are read in each turn of the event
 * loop), so a request that was answered is not reported as "no answer".
 */
export function awakeTimeout(ms: number, onTimeout: () => void): { clear: () => void } {
  const step = Math.max(1, Math.min(1000, Math.floor(ms / 4)));
  /** A tick later than this after the previous one means the process was not running. */
  const stallMs = 2 * step + 100;
  let counted = 0;
  let last = performance.now();
  let timer: NodeJS.Timeout;
  const tick = () => {
    const now = performance.now();
    const gap = now - last;
    last = now;
    const stalled = gap > stallMs;
    counted += stalled ? step : gap;
    if (counted >= ms && !stalled) {
      onTimeout();
      return;
    }
    timer = setTimeout(tick, stalled ? 0 : Math.max(1, Math.min(step, ms - counted)));
  };
  timer = setTimeout(tick, Math.min(step, ms));
  return { clear: () => clearTimeout(timer) };
}
