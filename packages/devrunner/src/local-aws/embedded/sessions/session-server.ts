import { createServer, type Server, type Socket } from "node:net";
import { ClientConnection } from "./client-connection.ts";
import { SessionServerError } from "./errors.ts";
import type { FrontendMessage, StartupPacket } from "./frontend-reader.ts";
import { PgliteSession, type SessionDatabase } from "./pglite-session.ts";
import {
  SQLSTATE,
  authenticationOk,
  backendKeyData,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
} from "./protocol.ts";
import { SessionPump, type SessionServerEvent } from "./session-pump.ts";
import { SessionSettings } from "./session-settings.ts";
import { partitionSettings, readStartupParameters } from "./startup.ts";

export type { SessionServerEvent } from "./session-pump.ts";

export interface SessionServerOptions {
  /** PGlite once open. Connections made before wait for it, and are refused if it fails to open. */
  readonly database: Promise<SessionDatabase>;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default 100, as Postgres. */
  readonly maxConnections?: number;
  /**
   * How long a connection idle inside a transaction (or inside an unfinished extended-protocol sequence)
   * may keep the session while others wait for it; it is then ended and its transaction rolled back.
   * Default 30 s. A connection's own idle_in_transaction_session_timeout applies as well, waiting or not.
   */
  readonly othersWaitingLimitMs?: number;
  /** What the server did on its own, for the caller to report: nothing is printed. */
  readonly onEvent?: (event: SessionServerEvent) => void;
}

export interface SessionServer {
  readonly host: string;
  readonly port: number;
  /** Ends every connection (an open transaction is not committed) and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves PGlite's single session to many Postgres clients over TCP, one at a time in units that keep its
 * meaning: a connection's extended-protocol sequence runs whole up to its Sync, and a connection inside
 * a transaction keeps the session until the transaction ends. Each connection's run-time settings
 * (startup parameters, SETs) are put in place whenever it gets the session and kept aside while others
 * have it, and its named prepared statements are its own. See SessionScheduler for who goes next.
 */
export async function serveSessions(options: SessionServerOptions): Promise<SessionServer> {
  const multiplexer = new SessionMultiplexer(options);
  const host = options.host ?? "127.0.0.1";
  const port = await multiplexer.listen(host, options.port ?? 0);
  return { host, port, close: () => multiplexer.close() };
}

/** The network side: connections, their startup, their messages grouped into units for the pump. */
class SessionMultiplexer {
  private readonly server: Server;
  private readonly pump: SessionPump;
  private readonly reported: Promise<[string, string][]>;
  private readonly maxConnections: number;
  private nextId = 1;
  private closing = false;

  constructor(options: SessionServerOptions) {
    this.maxConnections = options.maxConnections ?? 100;
    const session = options.database.then((db) => {
      const opened = new PgliteSession(db);
      return { session: opened, settings: new SessionSettings(opened) };
    });
    this.pump = new SessionPump({
      session,
      othersWaitingLimitMs: options.othersWaitingLimitMs ?? 30_000,
      onEvent: options.onEvent ?? (() => undefined),
    });
    this.reported = session.then(({ session: opened }) => opened.startupParameters());
    // Handled where it is awaited (each connection's startup); a failed open must not crash the process.
    this.reported.catch(() => undefined);
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(host: string, port: number): Promise<number> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once("error", reject);
        this.server.listen(port, host, () => {
          this.server.off("error", reject);
          resolve();
        });
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new SessionServerError(
        "SESSION_SERVER_LISTEN_FAILED",
        `cannot listen on ${host}:${port} for the embedded database: ${(error as Error).message}`,
        { cause: error, retryable: code === "EADDRINUSE" },
      );
    }
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.pump.connections.values()) {
      connection.fail({
        code: SQLSTATE.adminShutdown,
        message: "terminating connection: the embedded database is stopping",
      });
      connection.socket.destroy();
    }
    await this.pump.stop();
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new ClientConnection(this.nextId++, socket);
    this.pump.connections.set(connection.id, connection);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(connection, chunk));
    socket.on("close", () => this.pump.drop(connection));
    socket.on("error", () => socket.destroy());
  }

  private receive(connection: ClientConnection, chunk: Buffer): void {
    if (connection.closed) return;
    connection.reader.push(chunk);
    for (let packet = connection.reader.read(); packet; packet = connection.reader.read()) {
      switch (packet.kind) {
        case "invalid":
          connection.fail({ code: SQLSTATE.protocolViolation, message: packet.reason });
          this.pump.drop(connection);
          break;
        case "startup-packet":
          this.startupPacket(connection, packet.packet);
          break;
        case "message":
          this.message(connection, packet.message);
          break;
      }
      if (connection.closed) return;
    }
  }

  private startupPacket(connection: ClientConnection, packet: StartupPacket): void {
    switch (packet.kind) {
      case "ssl-request":
      case "gssenc-request":
        // No encryption on a loopback port: 'N', and the client goes on in the clear (or gives up).
        connection.send(Buffer.from("N"));
        return;
      case "cancel":
        this.pump.cancel(packet.processId, packet.secretKey);
        connection.socket.end();
        this.pump.drop(connection);
        return;
      case "startup":
        void this.start(connection, packet);
        return;
    }
  }

  private message(connection: ClientConnection, message: FrontendMessage): void {
    if (message.type === "X") {
      connection.socket.end();
      this.pump.drop(connection);
      return;
    }
    const unit = connection.assembler.push(message);
    if (!unit) return;
    connection.units.push(unit);
    if (connection.phase === "ready") this.pump.ready(connection);
  }

  private async start(
    connection: ClientConnection,
    packet: Extract<StartupPacket, { kind: "startup" }>,
  ): Promise<void> {
    const refuse = (code: string, message: string): void => {
      connection.fail({ code, message });
      this.pump.drop(connection);
    };
    if (packet.major !== 3)
      return refuse(
        SQLSTATE.featureNotSupported,
        `unsupported frontend protocol ${packet.major}.${packet.minor}: the embedded database speaks 3.0`,
      );
    if (this.pump.connections.size > this.maxConnections)
      return refuse(SQLSTATE.tooManyConnections, "sorry, too many clients already");
    const request = readStartupParameters(packet.parameters);
    if (request.kind === "refused") return refuse(request.code, request.message);
    let reported: [string, string][];
    try {
      reported = await this.reported;
    } catch (error) {
      return refuse(
        SQLSTATE.connectionFailure,
        `the embedded database did not open: ${(error as Error).message}`,
      );
    }
    if (connection.closed) return;
    const { applied, kept } = partitionSettings(request.settings);
    connection.settings = applied;
    this.pump.keep(connection, kept);
    const own = new Map(request.settings.map(([name, value]) => [name.toLowerCase(), value]));
    connection.send(
      Buffer.concat([
        ...(packet.minor > 0 || request.unknownProtocolOptions.length > 0
          ? [negotiateProtocolVersion(request.unknownProtocolOptions)]
          : []),
        authenticationOk(),
        ...reported.map(([name, value]) => parameterStatus(name, own.get(name.toLowerCase()) ?? value)),
        backendKeyData(connection.id, connection.secretKey),
        readyForQuery("I"),
      ]),
    );
    connection.phase = "ready";
    this.pump.ready(connection);
  }
}
