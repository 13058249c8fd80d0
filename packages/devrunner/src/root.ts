import { mkdirSync } from "node:fs";
import { InMemoryEntityStore, InMemoryEventPublisher, SystemClock } from "@entity/adapters/memory";
import {
  assertSchemaCurrent,
  createPostgresDatabase,
  migrateToLatest,
  migrationStatus,
  type DatabaseConnectionSettings,
  type EntityDatabase,
  type MigrationStatus,
} from "@entity/adapters/postgres";
import { lazySqsClient } from "@entity/adapters/sqs";
import {
  PORTS,
  databaseModule,
  entityServiceModule,
  inMemoryPublisherModule,
  inMemoryStoreModule,
  kyselyStoreModule,
  rootContainer,
  sqsPublisherModule,
  storeModule,
  type ContainerModule,
} from "@entity/adapters/wiring";
import type { Clock, EntityEvent, EntityRepository, EntityService, Outbox } from "@entity/domain";
import type { Kysely } from "kysely";

/** The database a command works on (cli/target.ts picks it from the flags and the environment). */
export type DatabaseTarget =
  | { readonly kind: "memory" }
  | { readonly kind: "pglite"; readonly dataDir: string }
  | { readonly kind: "postgres"; readonly settings: DatabaseConnectionSettings };

/** The devrunner's wired app: the domain's use cases on the chosen database and messaging. */
export interface DevApp {
  readonly service: EntityService;
  readonly target: DatabaseTarget;
  /** Where events go: `in-memory` (printed) or the queue URL. */
  readonly eventsTo: string;
  /** Events published in this process when messaging is in memory. */
  readonly publishedInMemory: () => readonly EntityEvent[];
  /** What stays open between `watch` runs. */
  readonly handles: {
    readonly db: Kysely<EntityDatabase> | undefined;
    readonly repository: EntityRepository;
    readonly outbox: Outbox;
  };
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<MigrationStatus[]>;
  close(): Promise<void>;
}

export interface OpenOptions {
  readonly target: DatabaseTarget;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The embedded and in-memory databases migrate themselves; Postgres is only checked. */
  readonly checkSchema?: boolean;
  /** Wire fresh code around another app's open database (`watch`). */
  readonly reuse?: DevApp;
}

/**
 * The devrunner's composition root: a container from the modules every root shares
 * (@entity/adapters/wiring), with the chosen store (Postgres, the embedded database, memory, or what an
 * earlier app left open), events to OUTBOUND_QUEUE_URL or kept in memory, and the system clock. Nothing
 * else in the devrunner constructs adapters.
 */
export async function openDevApp(options: OpenOptions): Promise<DevApp> {
  const { target, env } = options;
  const memoryPublisher = new InMemoryEventPublisher();
  const queueUrl = env.OUTBOUND_QUEUE_URL?.trim();
  const store = options.reuse ? reusedStore(options.reuse) : await openStore(target, options.checkSchema);
  const container = rootContainer(
    ...store.modules,
    // The SDK loads on the first send: it is most of the devrunner's start-up time.
    queueUrl
      ? sqsPublisherModule({ queueUrl, client: lazySqsClient() })
      : inMemoryPublisherModule(memoryPublisher),
  );
  container.bind<Clock>(PORTS.clock).toConstantValue(new SystemClock());
  container.load(entityServiceModule);
  const { db } = store;
  return {
    service: container.get<EntityService>(PORTS.service),
    target,
    eventsTo: queueUrl ?? "in-memory",
    publishedInMemory: () => memoryPublisher.published,
    handles: {
      db,
      repository: container.get<EntityRepository>(PORTS.repository),
      outbox: container.get<Outbox>(PORTS.outbox),
    },
    async migrate() {
      if (!db) return [];
      const result = await migrateToLatest(db);
      return (result.results ?? []).map((entry) => entry.migrationName);
    },
    migrationStatus: () => (db ? migrationStatus(db) : Promise.resolve([])),
    close: async () => {
      if (!options.reuse) await db?.destroy();
    },
  };
}

/** The store's bindings, and its database when it has one (what `close` ends and `migrate` runs on). */
interface Store {
  readonly modules: readonly ContainerModule[];
  readonly db: Kysely<EntityDatabase> | undefined;
}

/** Fresh adapter code on the database an earlier app opened; in memory, that app's very store. */
function reusedStore(previous: DevApp): Store {
  const { db, repository, outbox } = previous.handles;
  if (db) return { db, modules: [databaseModule(db), kyselyStoreModule] };
  return { db: undefined, modules: [storeModule(repository, outbox)] };
}

/** The target's store: Postgres (schema checked), the embedded database (migrated when behind), memory. */
async function openStore(target: DatabaseTarget, checkSchema = true): Promise<Store> {
  if (target.kind === "memory")
    return { db: undefined, modules: [inMemoryStoreModule(new InMemoryEntityStore())] };
  const db =
    target.kind === "pglite"
      ? await openEmbedded(target.dataDir)
      : await openPostgres(target.settings, checkSchema);
  return { db, modules: [databaseModule(db), kyselyStoreModule] };
}

/** PGlite loads only when used: it is most of the devrunner's start-up time. */
async function openEmbedded(dataDir: string): Promise<Kysely<EntityDatabase>> {
  mkdirSync(dataDir, { recursive: true });
  const { createPgliteDatabase } = await import("@entity/adapters/pglite");
  const db = await createPgliteDatabase(dataDir);
  // Reading the status is cheaper than a migration run (which takes the migration lock) on every start.
  if ((await migrationStatus(db)).some((migration) => !migration.executedAt)) await migrateToLatest(db);
  return db;
}

async function openPostgres(
  settings: DatabaseConnectionSettings,
  checkSchema: boolean,
): Promise<Kysely<EntityDatabase>> {
  const { db } = createPostgresDatabase(settings);
  if (checkSchema) await assertSchemaCurrent(db);
  return db;
}

/**
 * The target database for reading only (`doctor`): nothing is created, migrated or checked. The pool
 * opens on the first query.
 */
export async function openDatabaseForReading(
  target: Exclude<DatabaseTarget, { kind: "memory" }>,
): Promise<Kysely<EntityDatabase>> {
  if (target.kind === "postgres") return createPostgresDatabase({ ...target.settings, poolMax: 1 }).db;
  const { createPgliteDatabase } = await import("@entity/adapters/pglite");
  return createPgliteDatabase(target.dataDir);
}
