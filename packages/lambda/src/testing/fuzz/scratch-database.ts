import {
  createPostgresDatabase,
  describeDatabaseTarget,
  migrateToLatest,
  namesDatabase,
  parseDatabaseSettings,
  pgPoolConfig,
  type DatabaseConnectionSettings,
  type EntityDatabase,
} from "@entity/adapters/postgres";
import { postgresTestImage, startPostgresContainer } from "@entity/adapters/postgres-image";
import type { Kysely } from "kysely";
import pg from "pg";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Runs `work` on a migrated Postgres database of the fuzz's own, then removes it. When the environment
 * names a server (DATABASE_URL or DB_HOST), a scratch database is created on it and dropped afterwards:
 * the fuzz empties its tables before every scenario, so it never runs in the named database itself.
 * Otherwise a throwaway Postgres container (Docker; image PG_TEST_IMAGE, as the soak does).
 */
export async function withScratchDatabase<T>(
  env: Env,
  log: (line: string) => void,
  work: (db: Kysely<EntityDatabase>, where: string) => Promise<T>,
): Promise<T> {
  if (namesDatabase(env)) {
    const settings = parseDatabaseSettings(env, { poolMax: 2 });
    return onServer(settings, log, work);
  }
  log(`starting Postgres (${postgresTestImage(env)})`);
  const container = await startPostgresContainer(env);
  try {
    const settings = parseDatabaseSettings(container.env, { poolMax: 2 });
    return await migrated(settings, (db) => work(db, `a container (${container.image})`));
  } finally {
    await container.stop();
  }
}

async function onServer<T>(
  settings: DatabaseConnectionSettings,
  log: (line: string) => void,
  work: (db: Kysely<EntityDatabase>, where: string) => Promise<T>,
): Promise<T> {
  const scratch = `entity_fuzz_${Date.now().toString(36)}_${process.pid}`;
  const admin = new pg.Client(pgPoolConfig(settings));
  await admin.connect();
  try {
    try {
      await admin.query(`create database "${scratch}"`);
    } catch (error) {
      throw new Error(
        `cannot create a scratch database on ${describeDatabaseTarget(settings)}: ${(error as Error).message}. ` +
          "The fuzz empties its tables before every scenario, so it never runs in the named database itself: " +
          "give the role CREATEDB, or unset DATABASE_URL / DB_HOST to use a container.",
        { cause: error },
      );
    }
    log(`scratch database ${scratch} on ${describeDatabaseTarget(settings)}`);
    try {
      return await migrated({ ...settings, database: scratch }, (db) =>
        work(db, `scratch database ${scratch} on ${settings.host}:${settings.port}`),
      );
    } finally {
      await admin.query(`drop database if exists "${scratch}" with (force)`);
    }
  } finally {
    await admin.end();
  }
}

async function migrated<T>(
  settings: DatabaseConnectionSettings,
  work: (db: Kysely<EntityDatabase>) => Promise<T>,
): Promise<T> {
  const { db } = createPostgresDatabase(settings);
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
  }
}
