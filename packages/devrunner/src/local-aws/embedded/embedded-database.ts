import { mkdirSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

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
 * and a connection made early waits until the database is ready. Not migrated here: the template's
 * MigrationFunction migrates it over the wire, as a deploy does (see runCustomResources).
 */
export async function serveEmbeddedDatabase(dataDir: string): Promise<EmbeddedDatabaseServer> {
  mkdirSync(dataDir, { recursive: true });
  const opening = openPglite(dataDir);
  const sockets = new Set<Socket>();
  // PGlite's own server listens only once PGlite is open: this one relays to it, and listens now.
  const front: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    opening.then(
      ({ port }) => {
        if (client.destroyed) return;
        const upstream = connect(port, "127.0.0.1");
        sockets.add(upstream);
        upstream.on("close", () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on("error", () => upstream.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream).pipe(client);
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    front.once("error", reject);
    front.listen(0, "127.0.0.1", resolve);
  });
  const port = (front.address() as { port: number }).port;
  return {
    port,
    ready: opening.then(() => undefined),
    environment: {
      DATABASE_URL: "",
      DB_HOST: "127.0.0.1",
      DB_PORT: String(port),
      DB_NAME: "postgres",
      DB_USER: "postgres",
      DB_PASSWORD: "embedded",
      DB_SECRET_ARN: "",
      DB_SSL: "disable",
      DB_SSL_HOST: "",
    },
    stop: async () => {
      front.close();
      for (const socket of sockets) socket.destroy();
      const opened = await opening.catch(() => undefined);
      await opened?.stop();
    },
  };
}

async function openPglite(dataDir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const pglite = await PGlite.create(dataDir);
  const server = new PGLiteSocketServer({ db: pglite, host: "127.0.0.1", port: 0, maxConnections: 16 });
  await server.start();
  return {
    port: Number(server.getServerConn().split(":").pop()),
    stop: async () => {
      await server.stop();
      await pglite.close();
    },
  };
}
