import { asPortError, type DomainError } from "./errors.ts";
import type { EntityEvent } from "./events.ts";
import type { Clock, EventPublisher, Outbox, ParkedEvent, PublishFailure, PublishResult } from "./ports.ts";

/** How the outbox treats events that fail to publish. */
export interface OutboxPolicy {
  /** Failed attempts before an event is parked (a permanent rejection parks it at once). */
  readonly maxAttempts: number;
  /** Wait before the first retry; it doubles with each attempt, up to `maxRetryDelayMs`. */
  readonly retryDelayMs: number;
  readonly maxRetryDelayMs: number;
  /** How long a relay holds the events it claimed before another relay may take them. */
  readonly leaseMs: number;
}

export const DEFAULT_OUTBOX_POLICY: OutboxPolicy = Object.freeze({
  maxAttempts: 5,
  retryDelayMs: 2_000,
  maxRetryDelayMs: 300_000,
  leaseMs: 60_000,
});

/** What one delivery or relay run did. Events neither published nor parked stay pending for a retry. */
export interface DeliveryResult {
  readonly published: readonly string[];
  readonly failed: readonly PublishFailure[];
  /** Events given up on in this run: logged by the caller, kept in the outbox until redriven. */
  readonly parked: readonly ParkedEvent[];
  /** Set when a step failed as a whole (publisher or outbox unreachable); its events stay pending. */
  readonly error?: DomainError;
}

export interface DeliveryOptions {
  /** Asked between rounds; true ends the run (what is left stays pending). */
  readonly shouldStop?: () => boolean;
}

export interface Delivery {
  /**
   * Delivers these events now, straight after their unit of work committed (or for a redelivered key
   * whose event is still pending). Unordered messaging gets them in one publish; ordered messaging gets
   * them through claims, one event per entity per round, so none overtakes an earlier one.
   */
  deliver(events: readonly EntityEvent[], options?: DeliveryOptions): Promise<DeliveryResult>;
  /** Publishes what is due in the outbox (leftovers of failed deliveries), oldest first, in rounds. */
  relay(options?: DeliveryOptions & { batchSize?: number; maxRounds?: number }): Promise<DeliveryResult>;
}

// A factory of small closures over the same dependencies (publish, settle, deliver, relay): its length is
// theirs, each under 30 lines.
export function createDelivery(deps: {
  readonly outbox: Outbox;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  readonly policy: OutboxPolicy;
}): Delivery {
  const { outbox, publisher, clock, policy } = deps;
  const ordered = publisher.ordered;
  const settlePolicy = () => ({
    maxAttempts: policy.maxAttempts,
    retryDelayMs: (attempt: number) =>
      Math.min(policy.maxRetryDelayMs, policy.retryDelayMs * 2 ** Math.max(0, attempt - 1)),
    ordered,
    now: clock.now(),
  });

  /** One publish and its settlement. A publisher that sent nothing fails every event of the round. */
  async function publishAndSettle(events: readonly EntityEvent[], into: Accumulated): Promise<void> {
    let outcome: PublishResult;
    try {
      outcome = await publisher.publish(events);
    } catch (thrown) {
      const error = asPortError(thrown);
      into.error = error;
      outcome = {
        published: [],
        failed: events.map((event) => ({ eventId: event.eventId, reason: error.message, retryable: true })),
      };
    }
    const { parked } = await outbox.settle(outcome, settlePolicy());
    into.published.push(...outcome.published);
    into.failed.push(...outcome.failed);
    into.parked.push(...parked);
  }

  async function deliver(
    events: readonly EntityEvent[],
    options: DeliveryOptions = {},
  ): Promise<DeliveryResult> {
    const into = accumulated();
    if (events.length === 0) return finish(into);
    try {
      if (!ordered) {
        await publishAndSettle(events, into);
        return finish(into);
      }
      const waiting = new Set(events.map((event) => event.eventId));
      const entityNames = [...new Set(events.map((event) => event.entityName))];
      while (waiting.size > 0 && !options.shouldStop?.()) {
        const claimed = await outbox.claim(entityNames.length, {
          ordered,
          leaseMs: policy.leaseMs,
          now: clock.now(),
          entityNames,
        });
        into.parked.push(...claimed.parked);
        for (const parked of claimed.parked) waiting.delete(parked.eventId);
        if (claimed.events.length === 0) break;
        await publishAndSettle(claimed.events, into);
        for (const id of [...into.published, ...into.parked.map((parked) => parked.eventId)])
          waiting.delete(id);
        if (into.error || into.failed.length > 0) break;
      }
    } catch (thrown) {
      into.error = asPortError(thrown);
    }
    return finish(into);
  }

  async function relay(
    options: DeliveryOptions & { batchSize?: number; maxRounds?: number } = {},
  ): Promise<DeliveryResult> {
    const batchSize = options.batchSize ?? 100;
    const maxRounds = options.maxRounds ?? 100;
    const into = accumulated();
    try {
      for (let round = 0; round < maxRounds && !options.shouldStop?.(); round += 1) {
        const claimed = await outbox.claim(batchSize, { ordered, leaseMs: policy.leaseMs, now: clock.now() });
        into.parked.push(...claimed.parked);
        if (claimed.events.length === 0) break;
        await publishAndSettle(claimed.events, into);
        // Ordered claims take one event per entity, so a short round does not mean the backlog is empty.
        if (into.error || (!ordered && claimed.events.length < batchSize)) break;
      }
    } catch (thrown) {
      into.error = asPortError(thrown);
    }
    return finish(into);
  }

  return { deliver, relay };
}

interface Accumulated {
  published: string[];
  failed: PublishFailure[];
  parked: ParkedEvent[];
  error: DomainError | undefined;
}

function accumulated(): Accumulated {
  return { published: [], failed: [], parked: [], error: undefined };
}

function finish(into: Accumulated): DeliveryResult {
  const { published, failed, parked, error } = into;
  return error ? { published, failed, parked, error } : { published, failed, parked };
}
