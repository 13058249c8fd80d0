import { mkdirSync } from "node:fs";
import { InMemoryEntityStore, InMemoryEventPublisher, SystemClock } from "@entity/adapters/memory";
import {
  KyselyEntityStore,
  KyselyOutbox,
  assertSchemaCurrent,
  createPostgresDatabase,
  migrateToLatest,
  migrationStatus,
  type EntityDatabase,
  type MigrationStatus,
} from "@entity/adapters/postgres";
import {
  createEntityService,
  type EntityEvent,
  type EntityRepository,
  type EntityService,
  type EventPublisher,
  type Outbox,
} from "@entity/domain";
import type { Kysely } from "kysely";
import type { DatabaseTarget } from "./cli/target.ts";

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

/** The devrunner's composition root. Nothing else in the devrunner constructs adapters. */
export async function openDevApp(options: OpenOptions): Promise<DevApp> {
  const { target, env } = options;
  const memoryPublisher = new InMemoryEventPublisher();
  const queueUrl = env.OUTBOUND_QUEUE_URL?.trim();
  // The AWS SDK and PGlite load only when used: they are most of the devrunner's start-up time.
  let publisher: EventPublisher = memoryPublisher;
  if (queueUrl) {
    const { SqsEventPublisher, lazySqsClient } = await import("@entity/adapters/sqs");
    publisher = new SqsEventPublisher({ queueUrl, client: lazySqsClient() });
  }
  let db: Kysely<EntityDatabase> | undefined;
  let repository: EntityRepository;
  let outbox: Outbox;

  if (options.reuse) {
    db = options.reuse.handles.db;
    repository = db ? new KyselyEntityStore(db) : options.reuse.handles.repository;
    outbox = db ? new KyselyOutbox(db) : options.reuse.handles.outbox;
  } else if (target.kind === "memory") {
    repository = outbox = new InMemoryEntityStore();
  } else {
    let opened: Kysely<EntityDatabase>;
    if (target.kind === "pglite") {
      mkdirSync(target.dataDir, { recursive: true });
      const { createPgliteDatabase } = await import("@entity/adapters/pglite");
      opened = await createPgliteDatabase(target.dataDir);
      // Reading the status is cheaper than a migration run (which takes the migration lock) on every start.
      if ((await migrationStatus(opened)).some((migration) => !migration.executedAt))
        await migrateToLatest(opened);
    } else {
      opened = createPostgresDatabase(target.settings).db;
      if (options.checkSchema !== false) await assertSchemaCurrent(opened);
    }
    db = opened;
    repository = new KyselyEntityStore(opened);
    outbox = new KyselyOutbox(opened);
  }
  const service = createEntityService({ repository, outbox, publisher, clock: new SystemClock() });
  return {
    service,
    target,
    eventsTo: queueUrl ?? "in-memory",
    publishedInMemory: () => memoryPublisher.published,
    handles: { db, repository, outbox },
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
