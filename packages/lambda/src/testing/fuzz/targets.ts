import { InMemoryEventPublisher } from "@entity/adapters/memory";
import type { EntityDatabase } from "@entity/adapters/postgres";
import { InMemoryDeadLetterQueue, createTestApp, testServiceOn } from "@entity/adapters/testing";
import type { DeadLetterQueue, EntityService } from "@entity/domain";
import { sql, type Kysely } from "kysely";
import { createSqsBatchHandler, type HandlerLogger } from "../../batch-handler.ts";
import type { FuzzSession } from "./oracle.ts";
import type { StoredState } from "./store-model.ts";

/** Where the handler stores what it accepts; each scenario starts on an empty store. */
export interface FuzzTarget {
  readonly name: string;
  begin(): Promise<FuzzSession>;
}

const silent = {
  addContext: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as HandlerLogger;

/** Faults to put between the handler and its ports, to prove the oracle notices them. */
export interface Sabotage {
  readonly service?: (real: EntityService) => EntityService;
  readonly deadLetters?: (real: DeadLetterQueue) => DeadLetterQueue;
}

function wire(service: EntityService, sabotage: Sabotage = {}): Pick<FuzzSession, "handler" | "deadLetters"> {
  const deadLetters = new InMemoryDeadLetterQueue();
  const handler = createSqsBatchHandler({
    service: sabotage.service ? sabotage.service(service) : service,
    deadLetters: sabotage.deadLetters ? sabotage.deadLetters(deadLetters) : deadLetters,
    logger: silent,
    ready: () => Promise.resolve(),
  });
  return { handler, deadLetters };
}

/** The tests' composition root (`createTestApp`): in-memory store, publisher and clock. */
export function memoryTarget(sabotage: Sabotage = {}): FuzzTarget {
  return {
    name: "memory",
    begin() {
      const app = createTestApp();
      return Promise.resolve({
        ...wire(app, sabotage),
        publishedEvents: () => app.publishedEvents(),
        stored: () => {
          const snapshot = app.store.snapshot();
          return Promise.resolve({
            observations: snapshot.observations,
            entities: snapshot.entities,
            pendingEvents: snapshot.outbox.filter((entry) => !entry.published).length,
          });
        },
      });
    },
  };
}

/**
 * The Postgres adapter on a migrated database the fuzz owns: its tables are emptied before every
 * scenario. Events go to an in-memory publisher. Reports any change to the schema (tables, columns,
 * indexes, constraints) since the target was made: SQL hidden in a body must never run.
 */
export async function postgresTarget(db: Kysely<EntityDatabase>): Promise<FuzzTarget> {
  const schemaAtStart = await describeSchema(db);
  return {
    name: "postgres",
    async begin() {
      // delete, not truncate: truncating these small tables takes ten times as long.
      await db.deleteFrom("observation").execute();
      await db.deleteFrom("entity").execute();
      await db.deleteFrom("outbox").execute();
      const publisher = new InMemoryEventPublisher();
      return {
        ...wire(testServiceOn(db, { publisher })),
        publishedEvents: () => publisher.published,
        stored: () => readStore(db),
        async schemaChanges() {
          const now = await describeSchema(db);
          const before = new Set(schemaAtStart);
          const after = new Set(now);
          return [
            ...schemaAtStart.filter((line) => !after.has(line)).map((line) => `gone: ${line}`),
            ...now.filter((line) => !before.has(line)).map((line) => `new: ${line}`),
          ];
        },
      };
    },
  };
}

async function readStore(db: Kysely<EntityDatabase>): Promise<StoredState> {
  const [observations, entities, pending] = await Promise.all([
    db.selectFrom("observation").select(["key", "name", "observed_at", "message_id", "outcome"]).execute(),
    db
      .selectFrom("entity")
      .select(["name", "latest_key", "latest_observed_at", "observation_count"])
      .execute(),
    db
      .selectFrom("outbox")
      .select((eb) => eb.fn.countAll<string>().as("count"))
      .where("published_at", "is", null)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    observations: observations.map((row) => ({
      key: row.key,
      name: row.name,
      observedAt: row.observed_at,
      messageId: row.message_id,
      outcome: row.outcome,
    })),
    entities: entities.map((row) => ({
      name: row.name,
      latestKey: row.latest_key,
      latestObservedAt: row.latest_observed_at,
      observationCount: row.observation_count,
    })),
    pendingEvents: Number(pending.count),
  };
}

/** The schema as lines of text: every table's columns, every index, every constraint. */
async function describeSchema(db: Kysely<EntityDatabase>): Promise<string[]> {
  const result = await sql<{ line: string }>`
    select format('column %s.%s %s null=%s default=%s', table_name, column_name, data_type, is_nullable, column_default) as line
      from information_schema.columns where table_schema = current_schema()
    union all
    select format('index %s', indexdef) from pg_indexes where schemaname = current_schema()
    union all
    select format('constraint %s %s', conrelid::regclass, pg_get_constraintdef(oid))
      from pg_constraint where connamespace = current_schema()::regnamespace
    order by line`.execute(db);
  return result.rows.map((row) => row.line);
}
