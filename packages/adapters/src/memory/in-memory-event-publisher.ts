import {
  TransientPortError,
  type EntityEvent,
  type EventPublisher,
  type PublishResult,
} from "@entity/domain";

/**
 * Keeps what it publishes, in order. Faults can be injected: `failNext(n)` makes the next n publish calls
 * fail as a whole (a queue that is down), `rejectWhen` fails single events.
 */
export class InMemoryEventPublisher implements EventPublisher {
  readonly published: EntityEvent[] = [];
  readonly ordered: boolean;
  private failuresLeft = 0;
  private rejectWhen: ((event: EntityEvent) => boolean) | undefined;
  private rejectRetryable = true;

  /** `ordered`: behave like a FIFO queue (the relay keeps each entity's events in order). */
  constructor(options: { ordered?: boolean } = {}) {
    this.ordered = options.ordered ?? false;
  }

  failNext(calls: number): void {
    this.failuresLeft = calls;
  }

  /** Fails the events `predicate` picks (retryable: a throttle; not retryable: a message the queue refuses). */
  rejectEvents(
    predicate: ((event: EntityEvent) => boolean) | undefined,
    options: { retryable?: boolean } = {},
  ): void {
    this.rejectWhen = predicate;
    this.rejectRetryable = options.retryable ?? true;
  }

  publish(events: readonly EntityEvent[]): Promise<PublishResult> {
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      return Promise.reject(
        new TransientPortError("in-memory publisher: injected outage", { code: "PUBLISH_UNAVAILABLE" }),
      );
    }
    const published: string[] = [];
    const failed: { eventId: string; reason: string; retryable: boolean }[] = [];
    for (const event of events) {
      if (this.rejectWhen?.(event)) {
        failed.push({
          eventId: event.eventId,
          reason: "in-memory publisher: injected rejection",
          retryable: this.rejectRetryable,
        });
      } else {
        this.published.push(event);
        published.push(event.eventId);
      }
    }
    return Promise.resolve({ published, failed });
  }
}
