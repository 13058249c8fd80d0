import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

export interface EmbeddedDatabaseServer {
  /** Connection variables for the function: the same pg driver path as production. */
  readonly environment: Readonly<Record<string, string>>;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The embedded PGlite folder served over the Postgres wire protocol on 127.0.0.1 so the built function
 * reaches it with pg exactly as it reaches RDS. Not migrated here: the template's MigrationFunction
 * migrates it over the wire, as a deploy does (see runCustomResources).
 */
export async function serveEmbeddedDatabase(dataDir: string, port = 0): Promise<EmbeddedDatabaseServer> {
  mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port, maxConnections: 16 });
  await server.start();
  const boundPort = Number(server.getServerConn().split(":").pop());
  return {
    port: boundPort,
    environment: {
      DATABASE_URL: "",
      DB_HOST: "127.0.0.1",
      DB_PORT: String(boundPort),
      DB_NAME: "postgres",
      DB_USER: "postgres",
      DB_PASSWORD: "embedded",
      DB_SECRET_ARN: "",
      DB_SSL: "disable",
      DB_SSL_HOST: "",
    },
    stop: async () => {
      await server.stop();
      await pglite.close();
    },
  };
}
