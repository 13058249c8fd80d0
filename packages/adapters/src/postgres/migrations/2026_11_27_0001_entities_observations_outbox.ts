import { sql, type Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("entity")
    .addColumn("name", "text", (column) => column.primaryKey())
    .addColumn("latest_key", "text", (column) => column.notNull())
    .addColumn("latest_observed_at", "timestamptz", (column) => column.notNull())
    .addColumn("first_seen_at", "timestamptz", (column) => column.notNull())
    .addColumn("updated_at", "timestamptz", (column) => column.notNull())
    .addColumn("observation_count", "integer", (column) => column.notNull().check(sql`observation_count > 0`))
    .execute();

  // One row per accepted key: the primary key is what makes a redelivery a duplicate, even under races.
  await db.schema
    .createTable("observation")
    .addColumn("key", "text", (column) => column.primaryKey())
    .addColumn("name", "text", (column) => column.notNull().references("entity.name"))
    .addColumn("observed_at", "timestamptz", (column) => column.notNull())
    .addColumn("message_id", "text", (column) => column.notNull())
    .addColumn("received_at", "timestamptz", (column) => column.notNull())
    .addColumn("outcome", "text", (column) =>
      column.notNull().check(sql`outcome in ('created', 'updated', 'stale')`),
    )
    .execute();
  await db.schema
    .createIndex("observation_name_observed_at")
    .on("observation")
    .columns(["name", "observed_at desc"])
    .execute();

  await db.schema
    .createTable("outbox")
    .addColumn("sequence", "bigint", (column) => column.primaryKey().generatedAlwaysAsIdentity())
    .addColumn("event_id", "text", (column) => column.notNull().unique())
    .addColumn("event_type", "text", (column) => column.notNull())
    .addColumn("entity_name", "text", (column) => column.notNull())
    .addColumn("payload", "jsonb", (column) => column.notNull())
    .addColumn("created_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn("published_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("outbox_pending")
    .on("outbox")
    .column("sequence")
    .where(sql.ref("published_at"), "is", null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("outbox").execute();
  await db.schema.dropTable("observation").execute();
  await db.schema.dropTable("entity").execute();
}
