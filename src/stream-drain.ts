/**
 * Waits until a stream that refused a write ('drain') can take more, or is gone ('close',
 * 'error'). All three listeners are removed as soon as one fires: racing `once()` promises
 * would leave the two losers attached on every wait, and a long export piped into a slow reader
 * waits thousands of times (MaxListenersExceededWarning, and a slow leak).
 */
export function waitForDrain(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
