import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Decoded bytes taken ahead of the reader before zlib is paused. */
const AHEAD = 1024 * 1024;

/**
 * The decoded bytes of gzip data, then the error of a corrupt or cut stream.
 *
 * zlib discards the output it still holds when it fails, and a cut stream fails as soon as its
 * input ends, whether or not a reader has started (the CSV reader first loads its parser). So
 * the output is taken as it is made, from the start: every byte decoded before the failure is
 * given before its error, and the error is never left unhandled. A read error of the source is
 * raised the same way; ending early ends the source as well.
 */
export async function* gunzipped(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  const ready: Buffer[] = [];
  let held = 0;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  gunzip.on('data', (chunk: Buffer) => {
    ready.push(chunk);
    held += chunk.length;
    if (held >= AHEAD) gunzip.pause();
    notify();
  });
  gunzip.on('end', () => {
    ended = true;
    notify();
  });
  gunzip.on('error', (error) => {
    failure ??= { error };
    notify();
  });
  // pipeline, not pipe: it passes a read error of the source on to the gunzip stream, and
  // ends the source when the gunzip stream is destroyed.
  pipeline(Readable.from(source), gunzip, () => undefined);
  try {
    for (;;) {
      const chunk = ready.shift();
      if (chunk !== undefined) {
        held -= chunk.length;
        if (held < AHEAD && gunzip.isPaused()) gunzip.resume();
        yield chunk;
      } else if (failure) {
        throw failure.error;
      } else if (ended) {
        return;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    gunzip.destroy();
  }
}
