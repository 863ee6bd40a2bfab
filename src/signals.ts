/**
 * Turns the first Ctrl-C or SIGTERM into an abort, so a command can stop cleanly (settle what
 * is in flight, save its checkpoint) instead of dying mid-write. The handlers go away at that
 * first signal, so a second Ctrl-C gets Node's default and exits at once; the checkpoints are
 * only ever replaced atomically, so that is safe too.
 */
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const dispose = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const onSignal = () => {
    dispose();
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { signal: controller.signal, dispose };
}
