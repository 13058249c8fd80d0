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

/**
 * The writes of one unit of work. Either all of them commit or none do (the unit of work's function
 * threw, or the commit failed). Methods take whole batches so an adapter can do each in one round trip.
 */
export interface EntityUnitOfWork {
  /**
   * Serialises writers of the same names until the unit of work ends (two Lambdas processing one name
   * at once must not lose an update) and returns the current state of those that exist.
   */
  lockEntities(names: readonly string[]): Promise<ReadonlyMap<string, EntityState>>;
  /** Which of these keys were observed before. */
  findObservedKeys(keys: readonly string[]): Promise<ReadonlySet<string>>;
  /** Inserts or replaces these entities' state. */
  saveEntities(states: readonly EntityState[]): Promise<void>;
  addObservations(observations: readonly Observation[]): Promise<void>;
  /** Events to publish once the unit of work has committed. */
  addToOutbox(events: readonly EntityEvent[]): Promise<void>;
}

export interface EntityRepository {
  /** Runs `work` as one unit of work (a transaction); rolls back everything it wrote if it throws. */
  unitOfWork<T>(work: (unit: EntityUnitOfWork) => Promise<T>): Promise<T>;
  getEntity(name: string, recentObservations: number): Promise<EntityView | undefined>;
}

export interface OutboxRelayRound {
  /** Events handed to the publisher this round. */
  readonly claimed: number;
  /** Event ids the publisher confirmed and that are now marked published. */
  readonly published: readonly string[];
}

/** The relay's side of the outbox. */
export interface Outbox {
  /**
   * Claims up to `limit` pending events, oldest first, skipping those another relay holds; hands them
   * to `publish`; marks the ids `publish` returns as published. Ids it does not return stay pending.
   */
  relayPending(
    limit: number,
    publish: (events: readonly EntityEvent[]) => Promise<readonly string[]>,
  ): Promise<OutboxRelayRound>;
  pendingCount(): Promise<number>;
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
