import { sql, type Kysely } from "kysely";
import { DEFAULT_MIGRATION_TABLE, Migrator, type MigrationResultSet } from "kysely/migration";
import { SchemaNotCurrentError } from "../errors.ts";
import { migrations } from "./migrations/index.ts";
import { toPortError } from "./pg-errors.ts";

const MIGRATION_TABLE = DEFAULT_MIGRATION_TABLE;

function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve({ ...migrations }) },
  });
}

export interface MigrationStatus {
  readonly name: string;
  readonly executedAt: Date | undefined;
}

/** Applies every pending migration; throws with the failing migration's name and error. */
export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const result = await migratorFor(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((entry) => entry.status === "Error")?.migrationName;
    const reason = result.error instanceof Error ? result.error.message : JSON.stringify(result.error);
    // Before any migration runs the migrator creates its tables and takes its lock; that can fail too.
    const what = failed ? `migration ${failed} failed` : "migrating failed before any migration ran";
    throw new Error(`${what}: ${reason}`, { cause: result.error });
  }
  return result;
}

/**
 * Every migration and when it ran, read without the migrator: Kysely's `getMigrations` introspects every
 * table of the database to find its own (~80 ms on a cold PGlite, on every cold start of a function),
 * where one `to_regclass` does. Reads only; takes no lock. The table and its columns are Kysely's
 * (`kysely_migration`: name, timestamp).
 */
export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus[]> {
  const found = await sql<{
    found: boolean;
  }>`select to_regclass(${MIGRATION_TABLE}) is not null as found`.execute(db);
  const executed = found.rows[0]?.found
    ? await db.selectFrom(MIGRATION_TABLE).select(["name", "timestamp"]).execute()
    : [];
  const executedAt = new Map(
    executed.map((row: { name: string; timestamp: string | Date }) => [row.name, new Date(row.timestamp)]),
  );
  return Object.keys(migrations)
    .sort()
    .map((name) => ({ name, executedAt: executedAt.get(name) }));
}

/**
 * For code that must not migrate (the Lambda): fails, naming what is missing, unless the schema is current.
 * A database that cannot be asked fails with the port error it maps to (unavailable, refused credentials).
 */
export async function assertSchemaCurrent(db: Kysely<any>): Promise<void> {
  let statuses: MigrationStatus[];
  try {
    statuses = await migrationStatus(db);
  } catch (error) {
    throw toPortError(error);
  }
  const missing = statuses.filter((status) => !status.executedAt).map((status) => status.name);
  if (missing.length > 0) throw new SchemaNotCurrentError(missing);
}
