import { sql, type Kysely } from "kysely";

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Delivery state per outbox event: attempts, the last error, when a relay may take it up next (backoff and
 * claim leases) and when it was parked (given up on until someone redrives it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable("outbox")
    .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
    .addColumn("last_error", "text")
    .addColumn("next_attempt_at", "timestamptz", (column) => column.notNull().defaultTo(sql`now()`))
    .addColumn("parked_at", "timestamptz")
    .execute();
  // The relay's claim: due events, oldest first. Parked events leave the index.
  await db.schema.dropIndex("outbox_pending").execute();
  await db.schema
    .createIndex("outbox_pending")
    .on("outbox")
    .column("sequence")
    .where(sql.ref("published_at"), "is", null)
    .where(sql.ref("parked_at"), "is", null)
    .execute();
  // A batch's load (pending events of its names) and ordered delivery (earlier unpublished events of an entity).
  await db.schema
    .createIndex("outbox_unpublished_by_entity")
    .on("outbox")
    .columns(["entity_name", "sequence"])
    .where(sql.ref("published_at"), "is", null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("outbox_unpublished_by_entity").execute();
  await db.schema.dropIndex("outbox_pending").execute();
  await db.schema
    .createIndex("outbox_pending")
    .on("outbox")
    .column("sequence")
    .where(sql.ref("published_at"), "is", null)
    .execute();
  await db.schema
    .alterTable("outbox")
    .dropColumn("attempts")
    .dropColumn("last_error")
    .dropColumn("next_attempt_at")
    .dropColumn("parked_at")
    .execute();
}
