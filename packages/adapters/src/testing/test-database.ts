import type { Clock, EntityService, EventPublisher, OutboxPolicy } from "@entity/domain";
import { ContainerModule } from "inversify";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { ManualClock } from "../memory/clocks.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
import { migrateToLatest } from "../postgres/migrate.ts";
import type { EntityDatabase } from "../postgres/schema.ts";
import { PORTS, databaseModule, entityServiceModule, kyselyStoreModule, rootContainer } from "../wiring.ts";
import { createTestDatabase, type TestDatabase } from "./postgres-test-database.ts";

/**
 * Kysely over a pg pool of a test database: the one way the tests open one (`max`: pool size; `onConnect`
 * sees each new connection, e.g. to count statements).
 */
export function testKysely<DB = EntityDatabase>(
  config: pg.PoolConfig,
  options: { max?: number; onConnect?: (client: pg.PoolClient) => void } = {},
): Kysely<DB> {
  const pool = new pg.Pool({ ...config, ...(options.max ? { max: options.max } : {}) });
  if (options.onConnect) pool.on("connect", options.onConnect);
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * One raw, connected pg client: for what a test must see at the wire or hold on one session (a lock, a
 * transaction, pg_stat_activity), where Kysely's pool would hide which connection does what.
 */
export async function testPgClient(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  await client.connect();
  return client;
}

/** A fresh database in the run's Postgres container, migrated, and a Kysely handle on it. */
export async function migratedTestDatabase(
  prefix: string,
  options: { max?: number } = {},
): Promise<{ database: TestDatabase; db: Kysely<EntityDatabase> }> {
  const database = await createTestDatabase(prefix);
  const db = testKysely(database.config, options);
  await migrateToLatest(db);
  return { database, db };
}

/**
 * The domain's use cases on the Postgres adapters over `db` (the tests' root, wired with the same modules
 * as the Lambda's): events go to an in-memory publisher unless one is given; the clock is a ManualClock.
 */
export function testServiceOn(
  db: Kysely<EntityDatabase>,
  options: { publisher?: EventPublisher; clock?: Clock; outboxPolicy?: Partial<OutboxPolicy> } = {},
): EntityService {
  const container = rootContainer(
    databaseModule(db),
    new ContainerModule(({ bind }) => {
      bind<EventPublisher>(PORTS.publisher).toConstantValue(
        options.publisher ?? new InMemoryEventPublisher(),
      );
      bind<Clock>(PORTS.clock).toConstantValue(options.clock ?? new ManualClock());
      if (options.outboxPolicy) {
        bind<Partial<OutboxPolicy>>(PORTS.outboxPolicy).toConstantValue(options.outboxPolicy);
      }
    }),
    kyselyStoreModule,
    entityServiceModule,
  );
  return container.get<EntityService>(PORTS.service);
}
