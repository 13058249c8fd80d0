import { PostgreSqlContainer } from "@testcontainers/postgresql";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { migratedTestDatabase, testKysely, testPgClient, testServiceOn } from "../testing/test-database.ts";
import { testEntityRepositoryContract } from "../contracts/entity-repository.contract.ts";
import { testOutboxContract } from "../contracts/outbox.contract.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
import { migratedStoreHarness } from "../testing/postgres-harness.ts";
import { createTestDatabase } from "../testing/postgres-test-database.ts";
import { createPgliteDatabase } from "./pglite-database.ts";
import { postgresTestImage } from "../testing/postgres-image.ts";
import { KyselyEntityStore } from "./kysely-entity-store.ts";
import { migrateToLatest } from "./migrate.ts";

const postgres = migratedStoreHarness(async () => {
  const database = await createTestDatabase("contract");
  return {
    db: testKysely(database.config, { max: 5 }),
    second: testKysely(database.config, { max: 5 }),
  };
});
afterAll(() => postgres.close());
testEntityRepositoryContract("Postgres 17 (testcontainers, Kysely + pg)", postgres.harness);
testOutboxContract("Postgres 17 (testcontainers, Kysely + pg)", postgres.harness);

const pglite = migratedStoreHarness(async () => ({ db: await createPgliteDatabase() }));
afterAll(() => pglite.close());
testEntityRepositoryContract("PGlite (embedded)", pglite.harness);
testOutboxContract("PGlite (embedded)", pglite.harness);

describe("lock budget on Postgres", () => {
  const names = (prefix: string, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `${prefix}_${String(i).padStart(4, "0")}`);

  it("locks a batch's 1,000 existing names with row locks, taking no slot per name in the lock table", async () => {
    const { database, db } = await migratedTestDatabase("locks", { max: 2 });
    const service = testServiceOn(db);
    const batch = names("LOCKED", 1000);
    await service.processEntities(batch.map((name) => ({ key: `${name}_20220101T000000`, messageId: name })));
    const observer = await testPgClient(database.config);
    const store = new KyselyEntityStore(db);
    const held = await store.unitOfWork(async (unit) => {
      const loaded = await unit.load(batch, []);
      const locks = await observer.query<{ n: number; rows: number }>(
        `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
         where a.datname = current_database() and l.pid <> pg_backend_pid() and l.granted`,
      );
      // The rows are locked: another session cannot lock one of them without waiting.
      const lockable = await observer.query(
        "select name from entity where name = $1 for update skip locked",
        [batch[500]],
      );
      return { states: loaded.states.size, locks: locks.rows[0]?.n ?? -1, locked: lockable.rowCount === 0 };
    });
    expect(held.states).toBe(1000);
    expect(held.locked).toBe(true);
    // Relation and transaction locks only: a handful, whatever the batch size.
    expect(held.locks).toBeLessThan(30);
    await observer.end();
    await db.destroy();
  });

  it("runs 20 concurrent batches of 1,000 distinct names on Postgres's default lock table", async () => {
    // Default settings (max_connections 100, max_locks_per_transaction 64: about 6,400 lock slots in all).
    const container = await new PostgreSqlContainer(postgresTestImage()).start();
    const config = {
      host: container.getHost(),
      port: container.getPort(),
      user: container.getUsername(),
      password: container.getPassword(),
      database: container.getDatabase(),
    };
    const databases = Array.from({ length: 20 }, () => testKysely(config, { max: 1 }));
    try {
      await migrateToLatest(databases[0]!);
      const services = databases.map((db) => testServiceOn(db));
      // Each batch has 1,000 distinct names; neighbouring batches share half of them, so they also contend.
      const batch = (writer: number, stamp: string) =>
        names("BUDGET", 10_500)
          .slice(writer * 500, writer * 500 + 1000)
          .map((name) => ({ key: `${name}_${stamp}`, messageId: `${writer}-${name}-${stamp}` }));
      for (const stamp of ["20220101T000000", "20220102T000000"]) {
        const results = (
          await Promise.all(services.map((service, writer) => service.processEntities(batch(writer, stamp))))
        ).flat();
        expect(results.filter((result) => result.outcome === "failed")).toEqual([]);
      }
      const counts = await sql<{ entities: number; observations: number }>`
        select (select count(*)::int from entity) as entities, (select count(*)::int from observation) as observations
      `.execute(databases[0]!);
      expect(counts.rows[0]).toEqual({ entities: 10_500, observations: 21_000 });
    } finally {
      await Promise.all(databases.map((db) => db.destroy()));
      await container.stop();
    }
  });
});

describe("batch cost on Postgres", () => {
  it("processes and relays 1,000 entities in a handful of round trips, counted at the pg client", async () => {
    const database = await createTestDatabase("roundtrips");
    const statements: string[] = [];
    const db = testKysely(database.config, {
      max: 1,
      onConnect: (client) => {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
          const first = args[0];
          statements.push(typeof first === "string" ? first : String((first as { text?: string }).text));
          return query(...args);
        };
      },
    });
    await migrateToLatest(db);
    statements.length = 0;

    const publisher = new InMemoryEventPublisher();
    const service = testServiceOn(db, { publisher });
    const requests = Array.from({ length: 1000 }, (_, i) => ({
      key: `BATCHED_ENTITY_${i}_20220608T043249`,
      messageId: `m-${i}`,
    }));
    const results = await service.processEntities(requests);
    const processStatements = statements.length;
    statements.length = 0;
    const relay = await service.relayOutbox({ batchSize: 1000 });
    const relayStatements = statements.length;

    console.log(
      `1,000 entities: ${processStatements} statements to process (${JSON.stringify(
        results.reduce<Record<string, number>>(
          (counts, r) => ({ ...counts, [r.outcome]: (counts[r.outcome] ?? 0) + 1 }),
          {},
        ),
      )}), ${relayStatements} to relay ${relay.published.length} events`,
    );
    expect(results.every((result) => result.outcome === "created")).toBe(true);
    // At least BEGIN, the writes and COMMIT were seen, so the counter counts; at most a constant.
    expect(processStatements).toBeGreaterThanOrEqual(3);
    expect(processStatements).toBeLessThanOrEqual(5);
    expect(relay.published).toHaveLength(1000);
    expect(relayStatements).toBeLessThanOrEqual(10);
    expect(publisher.published).toHaveLength(1000);
    await db.destroy();
  });
});
