import { createServer, type Server, type Socket } from "node:net";
import { ClientConnection } from "./client-connection.ts";
import { SessionServerError } from "./errors.ts";
import type { FrontendMessage, StartupPacket } from "./frontend-reader.ts";
import { PgliteSession, type SessionDatabase } from "./pglite-session.ts";
import {
  SQLSTATE,
  authenticationOk,
  backendKeyData,
  errorResponse,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
} from "./protocol.ts";
import { SessionScheduler, type HoldLimit } from "./session-scheduler.ts";
import {
  durationMs,
  mayChangeServerKept,
  partitionSettings,
  readStartupParameters,
  type Setting,
} from "./startup.ts";

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

export type SessionServerEvent =
  | {
      readonly kind: "holder-ended";
      readonly connection: number;
      readonly applicationName: string;
      readonly limit: HoldLimit;
      readonly limitMs: number;
    }
  | { readonly kind: "database-failed"; readonly error: SessionServerError };

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

class SessionMultiplexer {
  private readonly server: Server;
  private readonly scheduler: SessionScheduler;
  private readonly connections = new Map<number, ClientConnection>();
  private readonly session: Promise<PgliteSession>;
  private readonly reported: Promise<[string, string][]>;
  private readonly maxConnections: number;
  private readonly onEvent: (event: SessionServerEvent) => void;
  private nextId = 1;
  /** Whose settings the session has now (possibly a connection gone since: then not kept). */
  private settingsOwner: ClientConnection | undefined;
  private pumping = false;
  /** The pump's run, for close() to wait on. */
  private pumped: Promise<void> = Promise.resolve();
  private holdTimer: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(options: SessionServerOptions) {
    this.scheduler = new SessionScheduler({ othersWaitingLimitMs: options.othersWaitingLimitMs ?? 30_000 });
    this.maxConnections = options.maxConnections ?? 100;
    this.onEvent = options.onEvent ?? (() => undefined);
    this.session = options.database.then((db) => new PgliteSession(db));
    this.reported = this.session.then((session) => session.startupParameters());
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
    clearTimeout(this.holdTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections.values()) {
      connection.fail({
        code: SQLSTATE.adminShutdown,
        message: "terminating connection: the embedded database is stopping",
      });
      connection.socket.destroy();
    }
    await this.pumped;
    await closed;
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = new ClientConnection(this.nextId++, socket);
    this.connections.set(connection.id, connection);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.receive(connection, chunk));
    socket.on("close", () => this.drop(connection));
    socket.on("error", () => socket.destroy());
  }

  private receive(connection: ClientConnection, chunk: Buffer): void {
    if (connection.closed) return;
    connection.reader.push(chunk);
    for (let packet = connection.reader.read(); packet; packet = connection.reader.read()) {
      switch (packet.kind) {
        case "invalid":
          connection.fail({ code: SQLSTATE.protocolViolation, message: packet.reason });
          this.drop(connection);
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
        this.cancel(packet.processId, packet.secretKey);
        connection.socket.end();
        this.drop(connection);
        return;
      case "startup":
        void this.start(connection, packet);
        return;
    }
  }

  private message(connection: ClientConnection, message: FrontendMessage): void {
    if (message.type === "X") {
      connection.socket.end();
      this.drop(connection);
      return;
    }
    const unit = connection.assembler.push(message);
    if (!unit) return;
    connection.units.push(unit);
    if (connection.phase === "ready") {
      this.scheduler.ready(connection.id, Date.now());
      this.kick();
    }
  }

  private async start(
    connection: ClientConnection,
    packet: Extract<StartupPacket, { kind: "startup" }>,
  ): Promise<void> {
    const refuse = (code: string, message: string): void => {
      connection.fail({ code, message });
      this.drop(connection);
    };
    if (packet.major !== 3)
      return refuse(
        SQLSTATE.featureNotSupported,
        `unsupported frontend protocol ${packet.major}.${packet.minor}: the embedded database speaks 3.0`,
      );
    if (this.connections.size > this.maxConnections)
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
    this.keep(connection, kept);
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
    if (connection.units.length > 0) {
      this.scheduler.ready(connection.id, Date.now());
      this.kick();
    }
  }

  /**
   * A cancel request: PGlite runs a statement to its end in one go, so what can be cancelled is a unit
   * still waiting for the session (it fails with 57014, as a cancelled statement does); otherwise, as
   * for a Postgres backend with nothing running, it has no effect. Unknown keys are ignored.
   */
  private cancel(processId: number, secretKey: number): void {
    const target = this.connections.get(processId);
    if (!target || target.secretKey !== secretKey || target.phase !== "ready") return;
    if (this.scheduler.isBusy(target.id)) return;
    const unit = target.units[0];
    // A unit ended by Flush would leave the client expecting answers up to its Sync: not cancelled.
    if (!unit || unit.end === "flush") return;
    target.units.shift();
    target.send(
      Buffer.concat([
        errorResponse({
          severity: "ERROR",
          code: SQLSTATE.queryCanceled,
          message: "canceling statement due to user request",
          detail: "It had not started: it was waiting for the embedded database's session.",
        }),
        readyForQuery(target.status),
      ]),
    );
    if (target.units.length === 0) this.scheduler.withdraw(target.id);
  }

  /** The connection is gone, or being ended: its session state is cleaned up in its turn. */
  private drop(connection: ClientConnection): void {
    if (connection.closed) return;
    connection.phase = "closed";
    connection.units = [];
    this.scheduler.withdraw(connection.id);
    if (this.scheduler.runningConnection() === connection.id) return; // step() sees to it after its unit
    this.release(connection);
  }

  /** A closed connection that is not running: abandoned on the session if it left anything there. */
  private release(connection: ClientConnection): void {
    if (connection.holdsSession || connection.assembler.statements.size > 0) {
      this.scheduler.ready(connection.id, Date.now());
      this.kick();
    } else {
      this.forget(connection);
    }
  }

  private forget(connection: ClientConnection): void {
    this.scheduler.forget(connection.id);
    this.connections.delete(connection.id);
    this.armHoldTimer();
  }

  private kick(): void {
    if (this.pumping || this.closing) return;
    // Set before the pump starts: with nothing to run, it ends (and clears it) before returning.
    this.pumping = true;
    this.pumped = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (let id = this.scheduler.next(); id !== undefined && !this.closing; id = this.scheduler.next())
        await this.step(id);
    } finally {
      // In the same turn as the last next(): a unit made ready from now on starts a new pump.
      this.pumping = false;
    }
    this.armHoldTimer();
  }

  private async step(id: number): Promise<void> {
    const connection = this.connections.get(id);
    if (!connection) return this.scheduler.forget(id);
    const session = await this.session;
    if (connection.closed) {
      await session
        .abandon({ holdsSession: connection.holdsSession, statements: connection.assembler.statements })
        .catch((error: unknown) => this.onEvent({ kind: "database-failed", error: databaseFailure(error) }));
      return this.forget(connection);
    }
    try {
      const unit = connection.units.shift();
      if (unit && (await this.giveSessionTo(connection, session))) {
        const status = await session.run(unit.bytes, (chunk) => connection.send(chunk));
        connection.sequenceOpen = unit.end === "flush";
        if (status !== undefined) connection.status = status;
        if (status !== undefined && status !== "E" && mayChangeServerKept(unit.bytes))
          this.keep(connection, await session.takeServerKept());
      }
    } catch (error) {
      this.databaseFailed(connection, error);
    }
    this.scheduler.finish(id, connection.holdsSession, Date.now());
    if (connection.closed) this.release(connection);
    else if (connection.units.length > 0) this.scheduler.ready(id, Date.now());
  }

  /**
   * Puts the connection's settings on the session, keeping the previous owner's (what its SETs made of
   * them) for its next turn. Startup parameters the database refuses end the connection, as Postgres
   * refuses them at startup.
   */
  private async giveSessionTo(connection: ClientConnection, session: PgliteSession): Promise<boolean> {
    if (this.settingsOwner === connection) return true;
    const previous = this.settingsOwner;
    if (previous) {
      if (!previous.closed) previous.settings = await session.settings();
      this.settingsOwner = undefined;
      await session.resetSettings();
    }
    try {
      await session.apply(connection.settings);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (connection.settingsAccepted || typeof code !== "string") throw error;
      await session.resetSettings();
      connection.fail({ code, message: (error as Error).message });
      this.drop(connection);
      return false;
    }
    connection.settingsAccepted = true;
    this.settingsOwner = connection;
    return true;
  }

  /** Records settings the server keeps for the connection (see SERVER_KEPT_SETTINGS), and enforces its own. */
  private keep(connection: ClientConnection, settings: readonly Setting[]): void {
    for (const [name, value] of settings) connection.keptSettings.set(name.toLowerCase(), value);
    const limit = durationMs(connection.keptSettings.get("idle_in_transaction_session_timeout"));
    this.scheduler.setOwnLimit(connection.id, limit);
  }

  /** PGlite failed outside SQL: the connection whose unit it was is ended; the others go on. */
  private databaseFailed(connection: ClientConnection, error: unknown): void {
    const failure = databaseFailure(error);
    this.onEvent({ kind: "database-failed", error: failure });
    connection.fail({ code: SQLSTATE.internalError, message: failure.message });
    connection.status = "I";
    connection.sequenceOpen = false;
    this.drop(connection);
  }

  private armHoldTimer(): void {
    clearTimeout(this.holdTimer);
    const deadline = this.scheduler.holdDeadline();
    if (!deadline || this.closing) return;
    this.holdTimer = setTimeout(() => this.endIdleHolder(), Math.max(0, deadline.at - Date.now()));
    this.holdTimer.unref();
  }

  /** The holder sat idle past its limit: it is ended as Postgres ends an idle-in-transaction session. */
  private endIdleHolder(): void {
    const deadline = this.scheduler.holdDeadline();
    const connection = deadline && this.connections.get(deadline.connection);
    if (!deadline || !connection || deadline.at > Date.now()) return this.armHoldTimer();
    this.onEvent({
      kind: "holder-ended",
      connection: connection.id,
      applicationName: connection.applicationName,
      limit: deadline.limit,
      limitMs: deadline.limitMs,
    });
    connection.fail({
      code: SQLSTATE.idleInTransactionTimeout,
      message:
        deadline.limit === "own-limit"
          ? "terminating connection due to idle-in-transaction timeout"
          : `terminating connection: it held the embedded database's only session idle (in a transaction or an unfinished extended-protocol sequence) for ${deadline.limitMs} ms while other connections waited`,
    });
    this.drop(connection);
  }
}

function databaseFailure(error: unknown): SessionServerError {
  return new SessionServerError(
    "SESSION_DATABASE_FAILED",
    `the embedded database failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error, retryable: false },
  );
}
