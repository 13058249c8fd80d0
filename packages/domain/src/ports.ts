import type { EntityEvent } from "./events.ts";

/** The current state of one entity (one NAME). */
export interface EntityState {
  readonly name: string;
  /** The key whose stamp is the latest seen: the entity's current state. */
  readonly latestKey: string;
  readonly latestObservedAt: Date;
  /** When the first observation of this name was received. */
  readonly firstSeenAt: Date;
  /** When the current state last advanced (created or updated). */
  readonly updatedAt: Date;
  /** Observations kept for this name: created, updated and stale ones; duplicates are not counted. */
  readonly observationCount: number;
}

export type ObservationOutcome = "created" | "updated" | "stale";

/** One accepted arrival of a key. Every one is kept; a redelivered key is a duplicate and is not. */
export interface Observation {
  readonly key: string;
  readonly name: string;
  readonly observedAt: Date;
  readonly messageId: string;
  readonly receivedAt: Date;
  readonly outcome: ObservationOutcome;
}

export interface EntityView {
  readonly state: EntityState;
  /** Newest stamp first. */
  readonly recentObservations: readonly Observation[];
}

/** Everything one unit of work writes, in one go. */
export interface EntityChanges {
  /** Inserts or replaces these entities' state. */
  readonly states: readonly EntityState[];
  readonly observations: readonly Observation[];
  /** Events to publish once the unit of work has committed. */
  readonly events: readonly EntityEvent[];
}

/**
 * One unit of work. Either all of its writes commit or none do (the unit of work's function threw, or
 * the commit failed). It reads once and writes once, whatever the batch size, so an adapter can do each
 * in one round trip.
 */
export interface EntityUnitOfWork {
  /**
   * Serialises writers of these names until the unit of work ends (two Lambdas processing one name at
   * once must not lose an update), then returns the current state of those that exist and which of
   * these keys were observed before.
   */
  load(
    names: readonly string[],
    keys: readonly string[],
  ): Promise<{
    readonly states: ReadonlyMap<string, EntityState>;
    readonly observedKeys: ReadonlySet<string>;
    /** Events of these names still waiting to be published (not published, not parked), oldest first. */
    readonly pendingEvents: readonly EntityEvent[];
  }>;
  save(changes: EntityChanges): Promise<void>;
}

export interface EntityRepository {
  /** Runs `work` as one unit of work (a transaction); rolls back everything it wrote if it throws. */
  unitOfWork<T>(work: (unit: EntityUnitOfWork) => Promise<T>): Promise<T>;
  getEntity(name: string, recentObservations: number): Promise<EntityView | undefined>;
}

/** Where an event stands in the outbox. */
export type OutboxState = "pending" | "parked" | "published";

/** One outbox row, for people looking at the outbox (`devrunner outbox`). */
export interface OutboxEntry {
  readonly event: EntityEvent;
  readonly state: OutboxState;
  /** Publish attempts so far. */
  readonly attempts: number;
  readonly lastError: string | undefined;
  readonly createdAt: Date;
  /** When a relay may take it up next (pending events). */
  readonly nextAttemptAt: Date | undefined;
  readonly parkedAt: Date | undefined;
}

/** An event the relay gave up on: it stays in the outbox, out of the way, until someone redrives it. */
export interface ParkedEvent {
  readonly eventId: string;
  readonly entityName: string;
  readonly reason: string;
  readonly attempts: number;
}

/** What a publish attempt did, for `Outbox.settle`. */
export interface SettlePolicy {
  /** After this many failed attempts an event is parked. */
  readonly maxAttempts: number;
  /** The wait before the next attempt after failed attempt n (1-based). */
  readonly retryDelayMs: (attempt: number) => number;
  /**
   * Ordered (FIFO) delivery: a parked event parks the later unpublished events of its entity with it,
   * so none of them overtakes it.
   */
  readonly ordered: boolean;
  readonly now: Date;
}

/**
 * The relay's side of the outbox. No transaction spans a publish: events are leased (claimed for a while)
 * and their fate is recorded afterwards, so a slow queue never holds database locks.
 */
export interface Outbox {
  /**
   * Leases up to `limit` events that are due (pending, not parked, not leased, next attempt reached),
   * oldest first, skipping those another relay is taking. Ordered: at most one event per entity, and
   * only when no earlier event of that entity is still unpublished, so an entity's events go out in
   * commit order; an event behind a parked one of its entity is parked with it (and returned as parked).
   */
  claim(
    limit: number,
    options: {
      readonly ordered: boolean;
      readonly leaseMs: number;
      readonly now: Date;
      /** Only events of these entities. */
      readonly entityNames?: readonly string[];
    },
  ): Promise<{ readonly events: readonly EntityEvent[]; readonly parked: readonly ParkedEvent[] }>;
  /**
   * Records a publish attempt in one go: marks the published events; counts an attempt on the failed
   * ones, schedules their retry and parks those that failed permanently or ran out of attempts.
   * Returns what it parked.
   */
  settle(outcome: PublishResult, policy: SettlePolicy): Promise<{ readonly parked: readonly ParkedEvent[] }>;
  /** Events not yet published and not parked. */
  pendingCount(): Promise<number>;
  /** Pending and parked events, oldest first. */
  list(options: {
    readonly states: readonly ("pending" | "parked")[];
    readonly limit: number;
  }): Promise<readonly OutboxEntry[]>;
  /** Puts parked events back (all of them when `eventIds` is undefined); returns the ids it put back. */
  redrive(eventIds: readonly string[] | undefined, now: Date): Promise<readonly string[]>;
}

export interface PublishFailure {
  readonly eventId: string;
  readonly reason: string;
  readonly retryable: boolean;
}

export interface PublishResult {
  readonly published: readonly string[];
  readonly failed: readonly PublishFailure[];
}

/** Messaging: sends events to consumers. Throws a TransientPortError when nothing could be sent. */
export interface EventPublisher {
  /**
   * True when consumers get one entity's events in the order they are sent (an SQS FIFO queue): the
   * relay then never lets an event overtake an earlier one of the same entity.
   */
  readonly ordered: boolean;
  publish(events: readonly EntityEvent[]): Promise<PublishResult>;
}

export interface Clock {
  now(): Date;
}

/** A message that can never succeed, set aside with the reason (e.g. an SQS dead-letter queue). */
export interface DeadLetter {
  /** The id of the message being set aside. */
  readonly messageId: string;
  /** The message body exactly as received, so a redrive sends the same message again. */
  readonly body: string;
  readonly reasonCode: string;
  readonly reason: string;
  /** For ordered (FIFO) queues: the message group it came from. */
  readonly group?: string;
}

export interface DeadLetterQueue {
  /** Returns the message ids that could not be set aside; the caller must not acknowledge those. */
  send(letters: readonly DeadLetter[]): Promise<{ readonly failed: readonly string[] }>;
}
