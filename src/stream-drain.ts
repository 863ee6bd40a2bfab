/**
 * Waits until a stream that refused a write ('drain') can take more, or is gone ('close',
 * 'error'). All three listeners are removed as soon as one fires: racing `once()` promises
 * would leave the two losers attached on every wait, and a long export piped into a slow reader
 * waits thousands of times (MaxListenersExceededWarning, and a slow leak).
 */
export function waitForDrain(stream: NodeJS.WritableStream): Promise<void> {
  const events = ['drain', 'close', 'error'];
  return new Promise((resolve) => {
    const done = () => {
      for (const e of events) stream.off(e, done);
      resolve();
    };
    for (const e of events) stream.on(e, done);
  });
}
