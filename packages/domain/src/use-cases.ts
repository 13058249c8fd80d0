import { parseEntityKey, type EntityKey, type InvalidEntityKey } from "./entity-key.ts";
import {
  createDelivery,
  DEFAULT_OUTBOX_POLICY,
  type DeliveryOptions,
  type DeliveryResult,
  type OutboxPolicy,
} from "./delivery.ts";
import {
  DeadlineReachedError,
  GroupBlockedError,
  PortUnavailableError,
  asPortError,
  type DomainError,
} from "./errors.ts";
import { entityEvent, type EntityEvent } from "./events.ts";
import type {
  Clock,
  EntityRepository,
  EntityState,
  EntityUnitOfWork,
  EntityView,
  EventPublisher,
  Observation,
  Outbox,
  OutboxEntry,
} from "./ports.ts";

export interface ProcessRequest {
  readonly key: string;
  /** The id of the message that carried the key (SQS messageId), kept with the observation. */
  readonly messageId: string;
  /**
   * An ordered group (an SQS FIFO message group): once an item of a group fails, later items of that
   * group are not taken up, so a retry replays them in their order.
   */
  readonly group?: string;
}

export interface ProcessOptions {
  /** Items per unit of work; the stop check runs between units. Default: all in one. */
  readonly chunkSize?: number;
  /** Asked before each unit of work; true fails the rest (retryable) without touching them. */
  readonly shouldStop?: () => boolean;
  /**
   * Told each chunk's results once its units of work have committed, so their events can go out while
   * the next chunk is processed (see `deliveryPipeline`).
   */
  readonly onCommitted?: (results: readonly ProcessResult[]) => void;
}

export type AcceptedOutcome = "created" | "updated" | "stale" | "duplicate";

export type ProcessResult =
  | {
      readonly outcome: AcceptedOutcome;
      readonly messageId: string;
      readonly key: EntityKey;
      /**
       * The event this record still has to see delivered before it is acknowledged: put in the outbox
       * with the change (created, updated), or, for a duplicate, its event when that is still pending
       * (an earlier delivery committed the change but could not publish it).
       */
      readonly event?: EntityEvent;
    }
  | {
      /** The key does not parse: a permanent failure. */
      readonly outcome: "invalid";
      readonly messageId: string;
      readonly input: string;
      readonly reason: InvalidEntityKey;
    }
  | {
      /** A port failed; `error.retryable` tells whether trying again can help. Nothing was written. */
      readonly outcome: "failed";
      readonly messageId: string;
      readonly key: EntityKey;
      readonly error: DomainError;
    };

export interface EntityServiceDependencies {
  readonly repository: EntityRepository;
  readonly outbox: Outbox;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  /** Retries and parking of events that fail to publish; defaults to DEFAULT_OUTBOX_POLICY. */
  readonly outboxPolicy?: Partial<OutboxPolicy>;
}

export interface EntityService {
  processEntity(key: string, context: { messageId: string }): Promise<ProcessResult>;
  /**
   * One result per request, in order. One item's failure never fails the others (but see `group`),
   * except when the store is unreachable: then the rest is not attempted either.
   */
  processEntities(requests: readonly ProcessRequest[], options?: ProcessOptions): Promise<ProcessResult[]>;
  /** Delivers the events of these results (see `ProcessResult.event`) now; see `Delivery.deliver`. */
  deliverEvents(results: readonly ProcessResult[], options?: DeliveryOptions): Promise<DeliveryResult>;
  /** Publishes what is due in the outbox (the scheduled relay); what fails stays pending or is parked. */
  relayOutbox(
    options?: DeliveryOptions & { batchSize?: number; maxRounds?: number },
  ): Promise<DeliveryResult>;
  getEntity(name: string, options?: { recentObservations?: number }): Promise<EntityView | undefined>;
  /** Pending and parked events, oldest first. */
  listOutbox(options?: {
    states?: readonly ("pending" | "parked")[];
    limit?: number;
  }): Promise<readonly OutboxEntry[]>;
  /** Puts parked events back in line (all when `eventIds` is undefined); returns the ids put back. */
  redriveOutbox(eventIds?: readonly string[]): Promise<readonly string[]>;
}

/**
 * The events a batch's results still have to see delivered, each once: a key redelivered within the batch
 * (a duplicate of an item processed in an earlier chunk) carries the same pending event.
 */
export function eventsToDeliver(results: readonly ProcessResult[]): EntityEvent[] {
  const events = new Map<string, EntityEvent>();
  for (const result of results) {
    if ("event" in result && result.event) events.set(result.event.eventId, result.event);
  }
  return [...events.values()];
}

interface ParsedRequest {
  readonly index: number;
  readonly messageId: string;
  readonly key: EntityKey;
  readonly group: string | undefined;
}

export function createEntityService(deps: EntityServiceDependencies): EntityService {
  const { repository, outbox, publisher, clock } = deps;
  const delivery = createDelivery({
    outbox,
    publisher,
    clock,
    policy: { ...DEFAULT_OUTBOX_POLICY, ...deps.outboxPolicy },
  });

  async function processEntities(
    requests: readonly ProcessRequest[],
    options: ProcessOptions = {},
  ): Promise<ProcessResult[]> {
    const results = new Array<ProcessResult>(requests.length);
    const parsed: ParsedRequest[] = [];
    requests.forEach((request, index) => {
      const result = parseEntityKey(request.key);
      if (result.ok) {
        parsed.push({ index, messageId: request.messageId, key: result.key, group: request.group });
      } else {
        results[index] = {
          outcome: "invalid",
          messageId: request.messageId,
          input: request.key,
          reason: result.error,
        };
      }
    });
    const blockedGroups = new Set<string>();
    const fail = (items: readonly ParsedRequest[], error: DomainError): void => {
      for (const item of items) {
        results[item.index] = { outcome: "failed", messageId: item.messageId, key: item.key, error };
        if (item.group !== undefined) blockedGroups.add(item.group);
      }
    };
    const chunkSize = Math.max(1, options.chunkSize ?? parsed.length);
    let unavailable: DomainError | undefined;
    for (let start = 0; start < parsed.length; start += chunkSize) {
      // An unreachable store fails the rest without trying: each try would wait for a connection timeout.
      if (unavailable) {
        fail(parsed.slice(start), unavailable);
        break;
      }
      if (options.shouldStop?.()) {
        fail(parsed.slice(start), new DeadlineReachedError("stopped before this item: the time ran out"));
        break;
      }
      const chunk = parsed.slice(start, start + chunkSize);
      unavailable = await processBisecting(chunk, fail, blockedGroups, results);
      options.onCommitted?.(chunk.map((item) => results[item.index]!));
    }
    return results;
  }

  /**
   * The whole batch in one unit of work (a few round trips). A permanent failure bisects the batch until it
   * is pinned on one request, so a poison record fails alone; a transient one fails the batch for a retry.
   * Items of an ordered group that already failed are not taken up. Returns the error when the store
   * could not be reached.
   */
  async function processBisecting(
    candidates: readonly ParsedRequest[],
    fail: (items: readonly ParsedRequest[], error: DomainError) => void,
    blockedGroups: ReadonlySet<string>,
    results: ProcessResult[],
  ): Promise<DomainError | undefined> {
    const blocked = candidates.filter((item) => item.group !== undefined && blockedGroups.has(item.group));
    if (blocked.length > 0) {
      fail(blocked, new GroupBlockedError("not taken up: an earlier message of its group failed"));
    }
    const batch = candidates.filter((item) => !blocked.includes(item));
    if (batch.length === 0) return undefined;
    try {
      const outcomes = await repository.unitOfWork((unit) => applyBatch(unit, batch, clock.now()));
      for (const outcome of outcomes) results[outcome.index] = outcome.result;
      return undefined;
    } catch (thrown) {
      const error = asPortError(thrown);
      if (error.retryable || batch.length === 1) {
        fail(batch, error);
        return error instanceof PortUnavailableError ? error : undefined;
      }
      const middle = Math.ceil(batch.length / 2);
      const firstHalf = await processBisecting(batch.slice(0, middle), fail, blockedGroups, results);
      if (firstHalf) {
        fail(batch.slice(middle), firstHalf);
        return firstHalf;
      }
      return processBisecting(batch.slice(middle), fail, blockedGroups, results);
    }
  }

  return {
    processEntities,
    async processEntity(key, context) {
      const [result] = await processEntities([{ key, messageId: context.messageId }]);
      return result!;
    },
    deliverEvents: (results, options) => delivery.deliver(eventsToDeliver(results), options),
    relayOutbox: (options) => delivery.relay(options),
    getEntity: (name, options) => repository.getEntity(name, options?.recentObservations ?? 10),
    listOutbox: (options) =>
      outbox.list({ states: options?.states ?? ["pending", "parked"], limit: options?.limit ?? 100 }),
    redriveOutbox: (eventIds) => outbox.redrive(eventIds, clock.now()),
  };
}

/** The processing semantics, applied to one batch inside one unit of work. */
async function applyBatch(
  unit: EntityUnitOfWork,
  batch: readonly ParsedRequest[],
  now: Date,
): Promise<{ index: number; result: ProcessResult }[]> {
  const names = [...new Set(batch.map((request) => request.key.name))].sort();
  const loaded = await unit.load(names, [...new Set(batch.map((request) => request.key.key))]);
  const pendingByKey = new Map(loaded.pendingEvents.map((event) => [event.key, event]));
  const states = new Map(loaded.states);
  const seen = new Set(loaded.observedKeys);
  const changed = new Map<string, EntityState>();
  const observations: Observation[] = [];
  const events: EntityEvent[] = [];
  const outcomes: { index: number; result: ProcessResult }[] = [];

  for (const { index, messageId, key } of batch) {
    if (seen.has(key.key)) {
      const pending = pendingByKey.get(key.key);
      outcomes.push({
        index,
        result: pending
          ? { outcome: "duplicate", messageId, key, event: pending }
          : { outcome: "duplicate", messageId, key },
      });
      continue;
    }
    seen.add(key.key);
    const current = states.get(key.name);
    let next: EntityState;
    let outcome: "created" | "updated" | "stale";
    if (current === undefined) {
      outcome = "created";
      next = {
        name: key.name,
        latestKey: key.key,
        latestObservedAt: key.observedAt,
        firstSeenAt: now,
        updatedAt: now,
        observationCount: 1,
      };
    } else if (key.observedAt.getTime() > current.latestObservedAt.getTime()) {
      outcome = "updated";
      next = {
        ...current,
        latestKey: key.key,
        latestObservedAt: key.observedAt,
        updatedAt: now,
        observationCount: current.observationCount + 1,
      };
    } else {
      outcome = "stale";
      next = { ...current, observationCount: current.observationCount + 1 };
    }
    states.set(key.name, next);
    changed.set(key.name, next);
    observations.push({
      key: key.key,
      name: key.name,
      observedAt: key.observedAt,
      messageId,
      receivedAt: now,
      outcome,
    });
    if (outcome === "stale") {
      outcomes.push({ index, result: { outcome, messageId, key } });
    } else {
      const event = entityEvent(
        outcome === "created" ? "entity.created" : "entity.updated",
        key,
        messageId,
        now,
      );
      events.push(event);
      outcomes.push({ index, result: { outcome, messageId, key, event } });
    }
  }

  if (changed.size > 0) await unit.save({ states: [...changed.values()], observations, events });
  return outcomes;
}
