import { createEntityService } from "@entity/domain";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testEntityRepositoryContract } from "../contracts/entity-repository.contract.ts";
import { ManualClock } from "../memory/clocks.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
import { migratedStoreHarness } from "../testing/postgres-harness.ts";
import { createTestDatabase } from "../testing/postgres-test-database.ts";
import { createPgliteDatabase } from "./pglite-database.ts";
import { KyselyEntityStore } from "./kysely-entity-store.ts";
import { migrateToLatest } from "./migrate.ts";
import type { EntityDatabase } from "./schema.ts";

function kyselyOver(pool: pg.Pool): Kysely<EntityDatabase> {
  return new Kysely<EntityDatabase>({ dialect: new PostgresDialect({ pool }) });
}

const postgres = migratedStoreHarness(async () => {
  const database = await createTestDatabase("contract");
  return {
    db: kyselyOver(new pg.Pool({ ...database.config, max: 5 })),
    second: kyselyOver(new pg.Pool({ ...database.config, max: 5 })),
  };
});
afterAll(() => postgres.close());
testEntityRepositoryContract("Postgres 17 (testcontainers, Kysely + pg)", postgres.harness);

const pglite = migratedStoreHarness(async () => ({ db: await createPgliteDatabase() }));
afterAll(() => pglite.close());
testEntityRepositoryContract("PGlite (embedded)", pglite.harness);

describe("locking on Postgres", () => {
  it("holds an advisory lock per name once load returns, even for names with no row yet", async () => {
    const database = await createTestDatabase("locks");
    const db = kyselyOver(new pg.Pool({ ...database.config, max: 2 }));
    await migrateToLatest(db);
    const observer = new pg.Client(database.config);
    await observer.connect();
    const store = new KyselyEntityStore(db);
    const held = await store.unitOfWork(async (unit) => {
      await unit.load(["NEVER_SEEN_A", "NEVER_SEEN_B", "NEVER_SEEN_A"], []);
      const locks = await observer.query<{ n: number }>(
        "select count(*)::int as n from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()",
      );
      return locks.rows[0]?.n;
    });
    expect(held).toBe(2);
    await observer.end();
    await db.destroy();
  });
});

describe("batch cost on Postgres", () => {
  it("processes and relays 1,000 entities in a handful of round trips, counted at the pg client", async () => {
    const database = await createTestDatabase("roundtrips");
    const pool = new pg.Pool({ ...database.config, max: 1 });
    const statements: string[] = [];
    pool.on("connect", (client) => {
      const query = client.query.bind(client) as (...args: unknown[]) => unknown;
      (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
        const first = args[0];
        statements.push(typeof first === "string" ? first : String((first as { text?: string }).text));
        return query(...args);
      };
    });
    const db = kyselyOver(pool);
    await migrateToLatest(db);
    statements.length = 0;

    const store = new KyselyEntityStore(db);
    const publisher = new InMemoryEventPublisher();
    const service = createEntityService({
      repository: store,
      outbox: store,
      publisher,
      clock: new ManualClock(),
    });
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
