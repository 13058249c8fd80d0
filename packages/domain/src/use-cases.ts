import { parseEntityKey, type EntityKey, type InvalidEntityKey } from "./entity-key.ts";
import { DeadlineReachedError, GroupBlockedError, asPortError, type DomainError } from "./errors.ts";
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
  PublishFailure,
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
}

export type AcceptedOutcome = "created" | "updated" | "stale" | "duplicate";

export type ProcessResult =
  | {
      readonly outcome: AcceptedOutcome;
      readonly messageId: string;
      readonly key: EntityKey;
      /** Put in the outbox with the change (created and updated only). */
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

export interface RelayResult {
  readonly published: readonly string[];
  readonly failed: readonly PublishFailure[];
  /** Set when a round failed as a whole (publisher or outbox unreachable); its events stay pending. */
  readonly error?: DomainError;
}

export interface EntityServiceDependencies {
  readonly repository: EntityRepository;
  readonly outbox: Outbox;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
}

export interface EntityService {
  processEntity(key: string, context: { messageId: string }): Promise<ProcessResult>;
  /** One result per request, in order. One item's failure never fails the others (but see `group`). */
  processEntities(requests: readonly ProcessRequest[], options?: ProcessOptions): Promise<ProcessResult[]>;
  /** Publishes pending outbox events; what fails stays pending for the next run. */
  relayOutbox(options?: { batchSize?: number; maxRounds?: number }): Promise<RelayResult>;
  getEntity(name: string, options?: { recentObservations?: number }): Promise<EntityView | undefined>;
}

interface ParsedRequest {
  readonly index: number;
  readonly messageId: string;
  readonly key: EntityKey;
  readonly group: string | undefined;
}

export function createEntityService(deps: EntityServiceDependencies): EntityService {
  const { repository, outbox, publisher, clock } = deps;

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
    for (let start = 0; start < parsed.length; start += chunkSize) {
      if (options.shouldStop?.()) {
        fail(parsed.slice(start), new DeadlineReachedError("stopped before this item: the time ran out"));
        break;
      }
      await processIsolating(parsed.slice(start, start + chunkSize), fail, blockedGroups, results);
    }
    return results;
  }

  /**
   * The whole group in one unit of work (a few round trips). A permanent failure is bisected until it is
   * pinned on one request, so a poison record fails alone; a transient one fails the group for a retry.
   * Items of an ordered group that already failed are not taken up.
   */
  async function processIsolating(
    candidates: readonly ParsedRequest[],
    fail: (items: readonly ParsedRequest[], error: DomainError) => void,
    blockedGroups: ReadonlySet<string>,
    results: ProcessResult[],
  ): Promise<void> {
    const blocked = candidates.filter((item) => item.group !== undefined && blockedGroups.has(item.group));
    if (blocked.length > 0) {
      fail(blocked, new GroupBlockedError("not taken up: an earlier message of its group failed"));
    }
    const group = candidates.filter((item) => !blocked.includes(item));
    if (group.length === 0) return;
    try {
      const outcomes = await repository.unitOfWork((unit) => applyBatch(unit, group, clock.now()));
      for (const outcome of outcomes) results[outcome.index] = outcome.result;
    } catch (thrown) {
      const error = asPortError(thrown);
      if (error.retryable || group.length === 1) {
        fail(group, error);
        return;
      }
      const middle = Math.ceil(group.length / 2);
      await processIsolating(group.slice(0, middle), fail, blockedGroups, results);
      await processIsolating(group.slice(middle), fail, blockedGroups, results);
    }
  }

  async function relayOutbox(options: { batchSize?: number; maxRounds?: number } = {}): Promise<RelayResult> {
    const batchSize = options.batchSize ?? 100;
    const maxRounds = options.maxRounds ?? 100;
    const published: string[] = [];
    const failed: PublishFailure[] = [];
    for (let round = 0; round < maxRounds; round += 1) {
      let roundFailures: readonly PublishFailure[] = [];
      try {
        const outcome = await outbox.relayPending(batchSize, async (events) => {
          const result = await publisher.publish(events);
          roundFailures = result.failed;
          return result.published;
        });
        published.push(...outcome.published);
        failed.push(...roundFailures);
        if (outcome.claimed < batchSize || roundFailures.length > 0) break;
      } catch (thrown) {
        return { published, failed, error: asPortError(thrown) };
      }
    }
    return { published, failed };
  }

  return {
    processEntities,
    async processEntity(key, context) {
      const [result] = await processEntities([{ key, messageId: context.messageId }]);
      return result!;
    },
    relayOutbox,
    getEntity: (name, options) => repository.getEntity(name, options?.recentObservations ?? 10),
  };
}

/** The processing semantics, applied to one batch inside one unit of work. */
async function applyBatch(
  unit: EntityUnitOfWork,
  group: readonly ParsedRequest[],
  now: Date,
): Promise<{ index: number; result: ProcessResult }[]> {
  const names = [...new Set(group.map((request) => request.key.name))].sort();
  const loaded = await unit.load(names, [...new Set(group.map((request) => request.key.key))]);
  const states = new Map(loaded.states);
  const seen = new Set(loaded.observedKeys);
  const changed = new Map<string, EntityState>();
  const observations: Observation[] = [];
  const events: EntityEvent[] = [];
  const outcomes: { index: number; result: ProcessResult }[] = [];

  for (const { index, messageId, key } of group) {
    if (seen.has(key.key)) {
      outcomes.push({ index, result: { outcome: "duplicate", messageId, key } });
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
