import {
  createPostgresDatabase,
  describeDatabaseTarget,
  migrationStatus,
  parseDatabaseSettings,
} from "@entity/adapters/postgres";

/** The custom resource a local run may find already satisfied: the schema migration (MigrationFunction). */
export const SCHEMA_MIGRATION_TYPE = "Custom::SchemaMigration";

/** The check gives up quickly: the migration function then runs and reports what is wrong. */
const CHECK_CONNECT_TIMEOUT_MS = 2000;

/**
 * Whether the database the migration function would migrate is already current, asked here with one
 * read (the same `migrationStatus` the function starts with, under the same role): the reason the
 * function would answer, or undefined when it must run (something pending, or anything this check
 * cannot settle: credentials from a secret or IAM, a bad setting, an error; the function then says
 * what is wrong, as a deploy would).
 */
export async function currentSchemaReason(
  env: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  if (env.DB_SECRET_ARN?.trim()) return undefined;
  let settings: ReturnType<typeof parseDatabaseSettings>;
  try {
    settings = parseDatabaseSettings(env, { poolMax: 1 });
  } catch {
    return undefined;
  }
  if (settings.iamAuth) return undefined;
  const { db } = createPostgresDatabase({
    ...settings,
    connectTimeoutMillis: Math.min(settings.connectTimeoutMillis, CHECK_CONNECT_TIMEOUT_MS),
  });
  try {
    const status = await migrationStatus(db);
    if (status.some((entry) => !entry.executedAt)) return undefined;
    return `${describeDatabaseTarget(settings)} is current (${status.length} migrations, the last ${status.at(-1)?.name ?? "none"}); nothing applied`;
  } catch {
    return undefined;
  } finally {
    await db.destroy().catch(() => undefined);
  }
}
