import { WriteFailedError } from '../errors.js';
import { waitForDrain } from '../stream-drain.js';

/**
 * Data on stdout for scripts (the `--json` envelope, list rows, an export's JSON Lines). Writes
 * wait for 'drain' when the pipe is full, so a slow consumer (e.g. `| jq`) bounds memory instead
 * of buffering everything; a closed pipe (EPIPE, e.g. `| head`) ends output quietly instead of
 * crashing: writers get `false` and should stop.
 */

const closedStreams = new WeakSet<NodeJS.WritableStream>();
const watchedStreams = new WeakSet<NodeJS.WritableStream>();
const failures = new WeakMap<NodeJS.WritableStream, Error>();

/** The listeners stay: a late EPIPE after the last write must not crash the process. */
function watch(stream: NodeJS.WritableStream): void {
  if (watchedStreams.has(stream)) return;
  watchedStreams.add(stream);
  stream.once('close', () => closedStreams.add(stream));
  stream.on('error', (err: NodeJS.ErrnoException) => {
    closedStreams.add(stream);
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    // Anything else (disk full on a redirect...) is real: surface it on the next write, as one
    // line naming the stream.
    const name =
      stream === process.stdout ? 'stdout' : stream === process.stderr ? 'stderr' : 'the output';
    failures.set(stream, new WriteFailedError(name, 'to', err));
  });
}

/** True once the reader of `stream` went away (EPIPE): stop producing output. */
export function isOutputClosed(stream: NodeJS.WritableStream): boolean {
  return closedStreams.has(stream);
}

/**
 * Writes `text` and waits for the stream to accept more when its buffer is full.
 * Resolves false when the reader has gone (nothing more should be written).
 */
export async function writeText(
  text: string | Uint8Array,
  stream: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  watch(stream);
  const failed = failures.get(stream);
  if (failed) throw failed;
  if (closedStreams.has(stream)) return false;
  if (text.length > 0 && !stream.write(text) && !closedStreams.has(stream)) {
    // 'close' and 'error' also end the wait, so a vanished reader cannot hang us.
    await waitForDrain(stream);
  }
  // An EPIPE of this very write arrives on the next tick; give it the chance to land.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const failedNow = failures.get(stream);
  if (failedNow) throw failedNow;
  return !closedStreams.has(stream);
}

/**
 * The one `--json` document of every command, on one line: `{"status":"ok","result":…}` or
 * `{"status":"error","error":{…}}` (see output/errors.ts).
 */
export function writeEnvelope(
  envelope: { status: 'ok'; result: unknown } | { status: 'error'; error: unknown },
  stream: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  return writeText(`${JSON.stringify(envelope)}\n`, stream);
}
