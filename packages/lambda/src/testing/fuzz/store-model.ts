import type { EntityEvent, ObservationOutcome } from "@entity/domain";
import { FuzzFailure } from "./failure.ts";
import type { ReferenceKey } from "./reference.ts";

/** What a store holds, read back after a batch (from memory or from Postgres). */
export interface StoredState {
  readonly observations: readonly {
    readonly key: string;
    readonly name: string;
    readonly observedAt: Date;
    readonly messageId: string;
    readonly outcome: string;
  }[];
  readonly entities: readonly {
    readonly name: string;
    readonly latestKey: string;
    readonly latestObservedAt: Date;
    readonly observationCount: number;
  }[];
  /** Outbox events not yet published. */
  readonly pendingEvents: number;
}

interface ModelObservation {
  readonly key: ReferenceKey;
  readonly messageId: string;
  readonly outcome: ObservationOutcome;
  /** Which record carried it first, for the report. */
  readonly origin: string;
}

interface ModelEntity {
  latest: ReferenceKey;
  count: number;
}

/**
 * The store as the accepted records say it must be: one observation per distinct key (the first message
 * that carried it), one entity per name at its latest stamp (the first of equal stamps), and one event
 * for each observation that created or advanced an entity.
 */
export class StoreModel {
  private readonly observations = new Map<string, ModelObservation>();
  private readonly entities = new Map<string, ModelEntity>();

  accept(key: ReferenceKey, messageId: string, origin: string): void {
    if (this.observations.has(key.key)) return;
    const entity = this.entities.get(key.name);
    let outcome: ObservationOutcome;
    if (!entity) {
      outcome = "created";
      this.entities.set(key.name, { latest: key, count: 1 });
    } else {
      outcome = key.observedAt.getTime() > entity.latest.observedAt.getTime() ? "updated" : "stale";
      if (outcome === "updated") entity.latest = key;
      entity.count += 1;
    }
    this.observations.set(key.key, { key, messageId, outcome, origin });
  }

  /** Throws a FuzzFailure naming the first difference. */
  compare(stored: StoredState, published: readonly EntityEvent[], when: string): void {
    const fail = (what: string): never => {
      throw new FuzzFailure(`${when}: ${what}`);
    };
    const storedObservations = new Map(stored.observations.map((row) => [row.key, row]));
    for (const [key, expected] of this.observations) {
      const row = storedObservations.get(key);
      if (!row) fail(`${JSON.stringify(key)} (${expected.origin}) is not stored`);
      const actual = {
        name: row!.name,
        observedAt: row!.observedAt.getTime(),
        messageId: row!.messageId,
        outcome: row!.outcome,
      };
      const wanted = {
        name: expected.key.name,
        observedAt: expected.key.observedAt.getTime(),
        messageId: expected.messageId,
        outcome: expected.outcome,
      };
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
        fail(
          `observation of ${JSON.stringify(key)} (${expected.origin}) is ${show(actual)}, expected ${show(wanted)}`,
        );
      }
    }
    for (const key of storedObservations.keys()) {
      if (!this.observations.has(key))
        fail(`${JSON.stringify(key)} is stored, but no accepted record carried it`);
    }

    const storedEntities = new Map(stored.entities.map((row) => [row.name, row]));
    for (const [name, expected] of this.entities) {
      const row = storedEntities.get(name);
      if (!row) fail(`entity ${JSON.stringify(name)} is not stored`);
      const actual = {
        latestKey: row!.latestKey,
        latestObservedAt: row!.latestObservedAt.getTime(),
        observationCount: row!.observationCount,
      };
      const wanted = {
        latestKey: expected.latest.key,
        latestObservedAt: expected.latest.observedAt.getTime(),
        observationCount: expected.count,
      };
      if (JSON.stringify(actual) !== JSON.stringify(wanted)) {
        fail(`entity ${JSON.stringify(name)} is ${show(actual)}, expected ${show(wanted)}`);
      }
    }
    if (storedEntities.size !== this.entities.size) {
      const extra = [...storedEntities.keys()].filter((name) => !this.entities.has(name));
      fail(`entities ${JSON.stringify(extra)} are stored, but no accepted record named them`);
    }

    this.compareEvents(published, fail);
    if (stored.pendingEvents !== 0) fail(`${stored.pendingEvents} outbox event(s) left unpublished`);
  }

  private compareEvents(published: readonly EntityEvent[], fail: (what: string) => never): void {
    const expected = [...this.observations.values()].filter((observation) => observation.outcome !== "stale");
    const byKey = new Map<string, EntityEvent[]>();
    for (const event of published) byKey.set(event.key, [...(byKey.get(event.key) ?? []), event]);
    for (const observation of expected) {
      const events = byKey.get(observation.key.key) ?? [];
      const type = observation.outcome === "created" ? "entity.created" : "entity.updated";
      if (events.length !== 1)
        fail(
          `${events.length} events published for ${JSON.stringify(observation.key.key)}, expected 1 (${type})`,
        );
      const event = events[0]!;
      if (
        event.type !== type ||
        event.entityName !== observation.key.name ||
        event.messageId !== observation.messageId
      ) {
        fail(
          `event for ${JSON.stringify(observation.key.key)} is ${show(event)}, expected ${type} from ${observation.messageId}`,
        );
      }
      byKey.delete(observation.key.key);
    }
    if (byKey.size > 0)
      fail(`events published for ${JSON.stringify([...byKey.keys()])}, which created or changed nothing`);
  }
}

function show(value: unknown): string {
  return JSON.stringify(value);
}
