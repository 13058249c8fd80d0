import { parseEntityKey, type EntityKey, type InvalidEntityKey } from "./entity-key.ts";
import { asPortError, type DomainError } from "./errors.ts";
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
  /** One result per request, in order. One item's failure never fails the others. */
  processEntities(requests: readonly ProcessRequest[]): Promise<ProcessResult[]>;
  /** Publishes pending outbox events; what fails stays pending for the next run. */
  relayOutbox(options?: { batchSize?: number; maxRounds?: number }): Promise<RelayResult>;
  getEntity(name: string, options?: { recentObservations?: number }): Promise<EntityView | undefined>;
}

interface ParsedRequest {
  readonly index: number;
  readonly messageId: string;
  readonly key: EntityKey;
}

export function createEntityService(deps: EntityServiceDependencies): EntityService {
  const { repository, outbox, publisher, clock } = deps;

  async function processEntities(requests: readonly ProcessRequest[]): Promise<ProcessResult[]> {
    const results = new Array<ProcessResult>(requests.length);
    const parsed: ParsedRequest[] = [];
    requests.forEach((request, index) => {
      const result = parseEntityKey(request.key);
      if (result.ok) parsed.push({ index, messageId: request.messageId, key: result.key });
      else
        results[index] = {
          outcome: "invalid",
          messageId: request.messageId,
          input: request.key,
          reason: result.error,
        };
    });
    if (parsed.length > 0) await processIsolating(parsed, results);
    return results;
  }

  /**
   * The whole batch in one unit of work (a few round trips). A permanent failure is bisected until it is
   * pinned on one request, so a poison record fails alone; a transient one fails the group for a retry.
   */
  async function processIsolating(group: readonly ParsedRequest[], results: ProcessResult[]): Promise<void> {
    try {
      const outcomes = await repository.unitOfWork((unit) => applyBatch(unit, group, clock.now()));
      for (const outcome of outcomes) results[outcome.index] = outcome.result;
    } catch (thrown) {
      const error = asPortError(thrown);
      if (error.retryable || group.length === 1) {
        for (const request of group) {
          results[request.index] = {
            outcome: "failed",
            messageId: request.messageId,
            key: request.key,
            error,
          };
        }
        return;
      }
      const middle = Math.ceil(group.length / 2);
      await processIsolating(group.slice(0, middle), results);
      await processIsolating(group.slice(middle), results);
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
  const states = new Map(await unit.lockEntities(names));
  const seen = new Set(await unit.findObservedKeys([...new Set(group.map((request) => request.key.key))]));
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

  if (changed.size > 0) await unit.saveEntities([...changed.values()]);
  if (observations.length > 0) await unit.addObservations(observations);
  if (events.length > 0) await unit.addToOutbox(events);
  return outcomes;
}
