import pg from "pg";
import { inject } from "vitest";

export interface TestDatabase {
  readonly connectionString: string;
  readonly config: pg.PoolConfig;
  readonly name: string;
}

let counter = 0;

/**
 * Creates a fresh, empty database in the run's one Postgres container, so test files running in
 * parallel never see each other's rows. Returns its connection settings.
 */
export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const server = inject("postgres");
  counter += 1;
  const name = `${prefix}_${process.pid}_${counter}_${Date.now().toString(36)}`;
  const admin = new pg.Client({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.adminDatabase,
  });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const config: pg.PoolConfig = {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: name,
  };
  const connectionString = `postgres://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${name}`;
  return { connectionString, config, name };
}
