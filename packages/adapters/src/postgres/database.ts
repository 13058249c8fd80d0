import { readFileSync } from "node:fs";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { Kysely, PostgresDialect, type LogEvent } from "kysely";
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

export interface DatabaseCredentials {
  readonly user?: string;
  readonly password: string;
}

/**
 * Kysely on a pg pool. The pool is made on first use (no I/O before), with credentials from
 * `credentials` when given (e.g. a Secrets Manager secret), else from the settings.
 */
export function createPostgresDatabase(
  settings: DatabaseConnectionSettings,
  options: { credentials?: () => Promise<DatabaseCredentials>; log?: (sqlText: string) => void } = {},
): Kysely<EntityDatabase> {
  const { credentials } = options;
  const pool = async (): Promise<pg.Pool> => {
    let created: pg.Pool;
    if (!credentials) {
      created = new pg.Pool(pgPoolConfig(settings));
    } else {
      const { user, password } = await credentials();
      created = new pg.Pool({ ...pgPoolConfig(settings, password), ...(user ? { user } : {}) });
    }
    // An idle connection that drops (failover, idle timeout, a restarted server) is reported here; the
    // pool has already discarded it and the next query connects anew. Unhandled, it would crash the process.
    created.on("error", () => undefined);
    return created;
  };
  return new Kysely<EntityDatabase>({
    dialect: new PostgresDialect({ pool }),
    ...queryLog(options.log),
  });
}

export function queryLog(log: ((sqlText: string) => void) | undefined): { log?: (event: LogEvent) => void } {
  if (!log) return {};
  return {
    log: (event) => {
      if (event.level === "query") log(event.query.sql);
    },
  };
}
