import type { Kysely } from "kysely";
import { Migrator, type MigrationInfo, type MigrationResultSet } from "kysely/migration";
import { SchemaNotCurrentError } from "../errors.ts";
import { migrations } from "./migrations/index.ts";

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

export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus[]> {
  const infos: readonly MigrationInfo[] = await migratorFor(db).getMigrations();
  return infos.map((info) => ({ name: info.name, executedAt: info.executedAt }));
}

/** For code that must not migrate (the Lambda): fails, naming what is missing, unless the schema is current. */
export async function assertSchemaCurrent(db: Kysely<any>): Promise<void> {
  const missing = (await migrationStatus(db))
    .filter((status) => !status.executedAt)
    .map((status) => status.name);
  if (missing.length > 0) throw new SchemaNotCurrentError(missing);
}
