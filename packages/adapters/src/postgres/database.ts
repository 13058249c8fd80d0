import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { Kysely, PostgresDialect, type LogEvent, type PostgresPool, type PostgresPoolClient } from "kysely";
import pg from "pg";
import { ConfigError } from "../errors.ts";
import type { DatabaseConnectionSettings } from "./connection-config.ts";
import { fixedCredentials, type CredentialSource, type DatabaseCredentials } from "./credentials.ts";
import { isAuthenticationFailure, isConnectionLost } from "./pg-errors.ts";
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

/** Server-side limits every connection starts with (startup parameters: no round trip). */
export interface SessionLimits {
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly idleInTransactionTimeoutMs?: number;
}

/** Kysely over pg, plus what a function needs to stop its database work at a deadline. */
export interface PostgresDatabase {
  readonly db: Kysely<EntityDatabase>;
  /**
   * Cancels the statements running on this database's connections (Postgres's cancel request: the server
   * stops the statement, so its transaction rolls back) and waits until each connection is handed back;
   * a connection still busy after `graceMs` is closed.
   */
  interrupt(graceMs?: number): Promise<void>;
  destroy(): Promise<void>;
}

export interface PostgresDatabaseOptions {
  /** Where passwords come from (a rotating secret, IAM tokens); default: the settings' password. */
  readonly credentials?: CredentialSource;
  /** Limits for new connections, asked when a pool is made (they may depend on the function's Timeout). */
  readonly sessionLimits?: () => SessionLimits;
  /** Shown in pg_stat_activity, so an operator sees which function holds a session. */
  readonly applicationName?: string;
  readonly log?: (sqlText: string) => void;
}

/**
 * Kysely on a pg pool made on first use (no I/O before). Credentials come from `credentials` when given:
 * a connection the server refuses for authentication (28P01, 28000) refetches them once and connects
 * again, and a pool whose credentials changed is replaced, so a rotated secret costs no failed batch.
 */
export function createPostgresDatabase(
  settings: DatabaseConnectionSettings,
  options: PostgresDatabaseOptions = {},
): PostgresDatabase {
  const pool = new CredentialedPool(
    settings,
    options.credentials ?? fixedCredentials({ password: settings.password ?? "" }),
    options.sessionLimits ?? (() => ({})),
    options.applicationName,
  );
  const db = new Kysely<EntityDatabase>({ dialect: new PostgresDialect({ pool }), ...queryLog(options.log) });
  return { db, interrupt: (graceMs) => pool.interrupt(graceMs), destroy: () => db.destroy() };
}

export function queryLog(log: ((sqlText: string) => void) | undefined): { log?: (event: LogEvent) => void } {
  if (!log) return {};
  return {
    log: (event) => {
      if (event.level === "query") log(event.query.sql);
    },
  };
}

/** pg's client with the undocumented members a cancel needs (the backend's key). */
type ActiveClient = pg.PoolClient & { readonly processID?: number; readonly secretKey?: number };

/** A client handed out to Kysely, and how many of its statements are on the wire. */
interface HandedOut {
  readonly wrapped: PostgresPoolClient;
  inFlight: number;
}

/** A pg pool per set of credentials, with the clients it has handed out tracked for `interrupt`. */
class CredentialedPool implements PostgresPool {
  readonly options = {};
  private current: { pool: pg.Pool; credentials: DatabaseCredentials } | undefined;
  private readonly handedOut = new Map<ActiveClient, HandedOut>();
  private readonly released = new Set<() => void>();
  private readonly settings: DatabaseConnectionSettings;
  private readonly credentials: CredentialSource;
  private readonly sessionLimits: () => SessionLimits;
  private readonly applicationName: string | undefined;

  constructor(
    settings: DatabaseConnectionSettings,
    credentials: CredentialSource,
    sessionLimits: () => SessionLimits,
    applicationName: string | undefined,
  ) {
    this.settings = settings;
    this.credentials = credentials;
    this.sessionLimits = sessionLimits;
    this.applicationName = applicationName;
  }

  async connect(): Promise<PostgresPoolClient> {
    let client: ActiveClient;
    try {
      client = await this.poolFor(await this.credentials.get()).connect();
    } catch (error) {
      if (!isAuthenticationFailure(error)) throw error;
      // The secret was rotated (or a token expired) since we cached it: fetch it again, connect once more.
      this.credentials.invalidate();
      client = await this.poolFor(await this.credentials.get()).connect();
    }
    // A connection that dies while handed out (a failover, a terminated session) reports it to the running
    // query and also emits 'error' on the client; pg-pool listens only to idle clients, and an 'error'
    // nobody listens to crashes the process.
    const ignore = (): void => undefined;
    client.on("error", ignore);
    // A statement that failed because the connection died leaves a client pg-pool may still think usable
    // (the socket closes a moment later): it must not go back into the pool.
    let broken = false;
    const query = (...args: Parameters<PostgresPoolClient["query"]>): unknown => {
      const result = (client.query as (...a: unknown[]) => unknown)(...args);
      if (!(result instanceof Promise)) return result;
      entry.inFlight += 1;
      return result.then(
        (value: unknown) => {
          entry.inFlight -= 1;
          return value;
        },
        (error: unknown) => {
          entry.inFlight -= 1;
          if (isConnectionLost(error)) broken = true;
          throw error;
        },
      );
    };
    const wrapped: PostgresPoolClient = {
      query: query as PostgresPoolClient["query"],
      release: (destroy?: boolean) => {
        this.handedOut.delete(client);
        client.off("error", ignore);
        client.release(destroy || broken);
        for (const notify of this.released) notify();
      },
    };
    const entry: HandedOut = { wrapped, inFlight: 0 };
    this.handedOut.set(client, entry);
    return wrapped;
  }

  async end(): Promise<void> {
    await this.current?.pool.end();
    this.current = undefined;
  }

  async interrupt(graceMs = 1000): Promise<void> {
    const busy = [...this.handedOut.keys()];
    if (busy.length === 0) return;
    await Promise.all(
      busy
        .filter(
          (client) =>
            (this.handedOut.get(client)?.inFlight ?? 0) > 0 &&
            client.processID !== undefined &&
            client.secretKey !== undefined,
        )
        .map((client) =>
          sendCancelRequest(this.settings.host, this.settings.port, client.processID!, client.secretKey!),
        ),
    );
    const allReleased = new Promise<void>((resolve) => {
      const check = (): void => {
        if (busy.every((client) => !this.handedOut.has(client))) {
          this.released.delete(check);
          resolve();
        }
      };
      this.released.add(check);
      check();
    });
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace over">(
      (resolve) => (timer = setTimeout(() => resolve("grace over"), graceMs)),
    );
    if ((await Promise.race([allReleased, graceOver])) === "grace over") {
      // The server did not stop in time (or cannot be cancelled): close the socket, the session ends with it.
      for (const client of busy)
        if (this.handedOut.has(client))
          (client.connection as { stream?: { destroy(): void } }).stream?.destroy();
      await Promise.race([allReleased, new Promise((resolve) => setTimeout(resolve, graceMs))]);
    }
    clearTimeout(timer);
  }

  private poolFor(credentials: DatabaseCredentials): pg.Pool {
    const user = credentials.user ?? this.settings.user;
    if (
      this.current &&
      this.current.credentials.password === credentials.password &&
      (this.current.credentials.user ?? this.settings.user) === user
    ) {
      return this.current.pool;
    }
    const previous = this.current?.pool;
    const limits = this.sessionLimits();
    const pool = new pg.Pool({
      ...pgPoolConfig(this.settings, credentials.password),
      user,
      ...(this.applicationName ? { application_name: this.applicationName } : {}),
      ...(limits.statementTimeoutMs ? { statement_timeout: limits.statementTimeoutMs } : {}),
      ...(limits.lockTimeoutMs ? { lock_timeout: limits.lockTimeoutMs } : {}),
      ...(limits.idleInTransactionTimeoutMs
        ? { idle_in_transaction_session_timeout: limits.idleInTransactionTimeoutMs }
        : {}),
    });
    // An idle connection that drops (failover, idle timeout, a restarted server) is reported here; the
    // pool has already discarded it and the next query connects anew. Unhandled, it would crash the process.
    pool.on("error", () => undefined);
    this.current = { pool, credentials };
    // The old credentials' connections finish what they are doing, then close.
    previous?.end().catch(() => undefined);
    return pool;
  }
}

/** Postgres's CancelRequest: a fresh connection carrying the backend's key; no authentication involved. */
function sendCancelRequest(host: string, port: number, processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve) => {
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(80877102, 4);
    message.writeInt32BE(processId, 8);
    message.writeInt32BE(secretKey, 12);
    const socket = connect(port, host, () => socket.end(message));
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
}
