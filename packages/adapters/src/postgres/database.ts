import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { Kysely, PGliteDialect, PostgresDialect, type LogEvent } from "kysely";
import pg from "pg";
import { ConfigError } from "../errors.ts";
import type { DatabaseConnectionSettings } from "./connection-config.ts";
import type { EntityDatabase } from "./schema.ts";

/** pg settings for these connection settings, TLS included. Reads the CA bundle once. */
export function pgPoolConfig(settings: DatabaseConnectionSettings, password?: string): pg.PoolConfig {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.user,
    password: password ?? settings.password,
    max: settings.poolMax,
    connectionTimeoutMillis: settings.connectTimeoutMillis,
    ssl: tlsOptions(settings),
  };
}

function tlsOptions(settings: DatabaseConnectionSettings): pg.PoolConfig["ssl"] {
  if (settings.ssl === "disable") return false;
  if (settings.ssl === "require") return { rejectUnauthorized: false };
  let ca: string | undefined;
  if (settings.sslCaPath) {
    try {
      ca = readFileSync(settings.sslCaPath, "utf8");
    } catch (error) {
      throw new ConfigError("DB_SSL_CA", `cannot read ${settings.sslCaPath}: ${(error as Error).message}`);
    }
  }
  const expectedName = settings.sslHost ?? settings.host;
  return {
    rejectUnauthorized: true,
    ...(ca ? { ca } : {}),
    servername: expectedName,
    // pg does not pass `servername` on to the identity check (node-postgres #2803): through a tunnel the
    // certificate would be checked against 'localhost'. Check it against the real name instead.
    checkServerIdentity: (_host: string, certificate: PeerCertificate) =>
      checkServerIdentity(expectedName, certificate),
  };
}

export function createPostgresDatabase(
  settings: DatabaseConnectionSettings,
  options: { password?: string; log?: (sqlText: string) => void } = {},
): Kysely<EntityDatabase> {
  const pool = new pg.Pool(pgPoolConfig(settings, options.password));
  return new Kysely<EntityDatabase>({
    dialect: new PostgresDialect({ pool }),
    ...queryLog(options.log),
  });
}

/**
 * The embedded database: PGlite (Postgres in WASM) keeping its data in `dataDir` (memory when omitted).
 * Loaded lazily, so code that never uses it never pays for it.
 */
export async function createPgliteDatabase(
  dataDir?: string,
  options: { log?: (sqlText: string) => void } = {},
): Promise<Kysely<EntityDatabase>> {
  const { PGlite } = await import("@electric-sql/pglite");
  const pglite = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return new Kysely<EntityDatabase>({
    dialect: new PGliteDialect({ pglite }),
    ...queryLog(options.log),
  });
}

function queryLog(log: ((sqlText: string) => void) | undefined): { log?: (event: LogEvent) => void } {
  if (!log) return {};
  return {
    log: (event) => {
      if (event.level === "query") log(event.query.sql);
    },
  };
}
