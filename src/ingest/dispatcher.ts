import type { Clock } from '../clock.js';
import type { AdaptiveConcurrency } from '../client/concurrency.js';
import { SynapError } from '../client/errors.js';
import type { CreateMemoryRequest } from '../client/types.js';
import type { IngestClient } from './options.js';
import { sendBatch, type ItemOutcome } from './sender.js';
import type { StopController } from './stop-controller.js';

/** One record on its way: where it came from and the request it became. */
export interface PendingItem {
  ordinal: number;
  source: string;
  line: number;
  original: unknown;
  request: CreateMemoryRequest;
}

/**
 * Sends batches, as many at once as the gate allows: dispatch() waits for a slot (so the reader
 * reads only as fast as batches go out), then the batch is sent in the background and each
 * document's outcome is handed to `onOutcomes`. An error that ends the run goes to the stop
 * controller.
 */
export class Dispatcher {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly o: {
      client: IngestClient;
      gate: AdaptiveConcurrency;
      clock: Clock;
      stop: StopController;
      onOutcomes: (batch: PendingItem[], outcomes: ItemOutcome[]) => void;
    },
  ) {}

  /**
   * Waits for a slot, then starts sending `batch`. After a stop the wait is bounded like the
   * requests in flight: once they are abandoned, the batch is not sent (its records stay
   * unsettled, above the watermark, and a resume sends them).
   */
  async dispatch(batch: PendingItem[]): Promise<void> {
    const { gate, stop } = this.o;
    const slot = gate.acquire();
    if ((await stop.untilAbandoned(slot.then(() => true))) === undefined) {
      // The slot may still come: give it back when it does.
      void slot.then(() => gate.release('neutral'));
      return;
    }
    // After an error that ends the run (a refused key, a credit stop) nothing more is sent;
    // after a clean stop, what was read still goes out (see the pipeline).
    if (stop.abandon.aborted || stop.fatal !== undefined) {
      gate.release('neutral');
      return;
    }
    const p = this.send(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /**
   * Waits for the batches in flight; after a stop, only for the grace period: what is still in
   * flight is then abandoned (documents with an id stay unsent and a resume sends them again).
   */
  async drain(): Promise<void> {
    if (this.inFlight.size > 0) await this.o.stop.untilAbandoned(Promise.allSettled(this.inFlight));
  }

  private async send(batch: PendingItem[]): Promise<void> {
    const { client, gate, clock, stop } = this.o;
    const started = clock.now();
    const transientBefore = client.stats?.().transientErrors ?? 0;
    let outcomes: ItemOutcome[];
    try {
      const docs = batch.map((b) => b.request);
      outcomes = await sendBatch(client, docs, { signal: stop.abandon, stop: stop.hurry });
    } catch (err) {
      gate.release(err instanceof SynapError && err.transient ? 'overload' : 'neutral');
      stop.fail(err);
      return;
    }
    // Retries inside the call mean the server struggled, even if the batch got through.
    const troubled = (client.stats?.().transientErrors ?? 0) > transientBefore;
    gate.release(troubled ? 'overload' : 'ok', clock.now() - started);
    this.o.onOutcomes(batch, outcomes);
  }
}
