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
  }>;
  save(changes: EntityChanges): Promise<void>;
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
