import {
  createPostgresDatabase,
  namesDatabase,
  parseDatabaseSettings,
  type EntityDatabase,
} from "@entity/adapters/postgres";
import { postgresTestImage, startPostgresContainer } from "@entity/adapters/postgres-image";
import type { Kysely } from "kysely";

/** Where the soak's Postgres is, reached as its owner (the function gets roles of its own). */
export interface SoakDatabase {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

/**
 * The Postgres the environment names (DATABASE_URL or DB_HOST; its user must be able to create roles),
 * else a throwaway container (Docker; PG_TEST_IMAGE), and how to let go of it.
 */
export async function soakDatabaseFor(
  env: Readonly<Record<string, string | undefined>>,
  note: (text: string) => void,
): Promise<{ database: SoakDatabase; release: () => Promise<void> }> {
  if (namesDatabase(env)) {
    const settings = parseDatabaseSettings(env);
    return {
      database: {
        host: settings.host,
        port: settings.port,
        user: settings.user ?? "",
        password: settings.password ?? "",
        database: settings.database,
      },
      release: () => Promise.resolve(),
    };
  }
  note(`starting Postgres 17 (${postgresTestImage(env)})`);
  const container = await startPostgresContainer(env);
  note(`Postgres up on ${container.host}:${container.port}`);
  return {
    database: container,
    release: async () => {
      note(`removing the Postgres container (${container.host}:${container.port})`);
      await container.stop();
    },
  };
}

/** The soak's own connections (the migration, the roles, the checks): two, straight to the database. */
export function openOwnerDatabase(database: SoakDatabase): Kysely<EntityDatabase> {
  const settings = parseDatabaseSettings(
    {
      DB_HOST: database.host,
      DB_PORT: String(database.port),
      DB_NAME: database.database,
      DB_USER: database.user,
      DB_PASSWORD: database.password,
      DB_SSL: "disable",
    },
    { poolMax: 2 },
  );
  return createPostgresDatabase(settings).db;
}
