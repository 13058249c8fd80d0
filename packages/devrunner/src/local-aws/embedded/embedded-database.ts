import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { serveSessions, type SessionServerEvent } from "./sessions/index.ts";

export interface EmbeddedDatabaseServer {
  /** Connection variables for the function: the same pg driver path as production. */
  readonly environment: Readonly<Record<string, string>>;
  readonly port: number;
  /** Resolves when PGlite has opened its folder and takes connections (earlier ones wait for it). */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The embedded PGlite folder served over the Postgres wire protocol on 127.0.0.1 so the built function
 * reaches it with pg exactly as it reaches RDS. The port listens at once, before PGlite has opened its
 * folder (the slowest step of a local run): functions configured with it start their init meanwhile,
 * and a connection made early waits until the database is ready. PGlite is one session: the session
 * server (./sessions) hands it to one connection at a time, a whole transaction or extended-protocol
 * sequence at a time, with each connection's own settings. Not migrated here: the template's
 * MigrationFunction migrates it over the wire, as a deploy does (see runCustomResources).
 */
export async function serveEmbeddedDatabase(
  dataDir: string,
  options: { onEvent?: (event: SessionServerEvent) => void } = {},
): Promise<EmbeddedDatabaseServer> {
  mkdirSync(dataDir, { recursive: true });
  const opening = PGlite.create(dataDir);
  const server = await serveSessions({
    database: opening,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  }).catch(async (error: unknown) => {
    await opening.then((pglite) => pglite.close()).catch(() => undefined);
    throw error;
  });
  const ready = opening.then(() => undefined);
  // A failed open is reported to every connection; nobody has to be waiting on `ready` for it.
  ready.catch(() => undefined);
  return {
    port: server.port,
    ready,
    environment: {
      DATABASE_URL: "",
      DB_HOST: server.host,
      DB_PORT: String(server.port),
      DB_NAME: "postgres",
      DB_USER: "postgres",
      DB_PASSWORD: "embedded",
      DB_SECRET_ARN: "",
      DB_SSL: "disable",
      DB_SSL_HOST: "",
    },
    stop: async () => {
      await server.close();
      const opened = await opening.catch(() => undefined);
      await opened?.close();
    },
  };
}

/** A line for the user about what the embedded database's session server did on its own. */
export function describeSessionEvent(event: SessionServerEvent): string {
  switch (event.kind) {
    case "holder-ended":
      return `embedded database: ended connection ${event.connection}${event.applicationName ? ` (${event.applicationName})` : ""}: ${
        event.limit === "own-limit"
          ? `idle in a transaction past its idle_in_transaction_session_timeout (${event.limitMs} ms)`
          : `it kept the database's one session idle in a transaction for ${event.limitMs} ms while others waited`
      }; its transaction was rolled back`;
    case "database-failed":
      return `embedded database: ${event.error.message} (${event.error.code})`;
  }
}
