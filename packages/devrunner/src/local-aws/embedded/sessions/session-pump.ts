import type { ClientConnection } from "./client-connection.ts";
import { SessionServerError } from "./errors.ts";
import type { PgliteSession } from "./pglite-session.ts";
import { SQLSTATE, errorResponse, readyForQuery } from "./protocol.ts";
import { SessionScheduler, type HoldLimit } from "./session-scheduler.ts";
import type { SessionSettings } from "./session-settings.ts";
import { durationMs, mayChangeServerKept, type Setting } from "./startup.ts";

export type SessionServerEvent =
  | {
      readonly kind: "holder-ended";
      readonly connection: number;
      readonly applicationName: string;
      readonly limit: HoldLimit;
      readonly limitMs: number;
    }
  | { readonly kind: "database-failed"; readonly error: SessionServerError };

/**
 * Runs the connections' units on the one session in the order SessionScheduler decides, one at a time,
 * keeps each connection's session state (status, settings) up to date, cleans up after connections that
 * are gone, and ends a holder that sits idle past its limit.
 */
export class SessionPump {
  readonly connections = new Map<number, ClientConnection>();
  private readonly scheduler: SessionScheduler;
  private readonly session: Promise<{ session: PgliteSession; settings: SessionSettings }>;
  private readonly onEvent: (event: SessionServerEvent) => void;
  private pumping = false;
  /** The pump's run, for stop() to wait on. */
  private pumped: Promise<void> = Promise.resolve();
  private holdTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(options: {
    session: Promise<{ session: PgliteSession; settings: SessionSettings }>;
    othersWaitingLimitMs: number;
    onEvent: (event: SessionServerEvent) => void;
  }) {
    this.session = options.session;
    this.scheduler = new SessionScheduler({ othersWaitingLimitMs: options.othersWaitingLimitMs });
    this.onEvent = options.onEvent;
  }

  /** The connection (started) has units to run. */
  ready(connection: ClientConnection): void {
    if (connection.units.length === 0) return;
    this.scheduler.ready(connection.id, Date.now());
    this.kick();
  }

  /** Stops running units (the one running finishes) and the hold timer. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.holdTimer);
    await this.pumped;
  }

  /**
   * A cancel request: PGlite runs a statement to its end in one go, so what can be cancelled is a unit
   * still waiting for the session (it fails with 57014, as a cancelled statement does); otherwise, as
   * for a Postgres backend with nothing running, it has no effect. Unknown keys are ignored.
   */
  cancel(processId: number, secretKey: number): void {
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
  drop(connection: ClientConnection): void {
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
    if (this.pumping || this.stopping) return;
    // Set before the pump starts: with nothing to run, it ends (and clears it) before returning.
    this.pumping = true;
    this.pumped = this.pump();
  }

  private async pump(): Promise<void> {
    try {
      for (let id = this.scheduler.next(); id !== undefined && !this.stopping; id = this.scheduler.next())
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
    const { session, settings } = await this.session;
    if (connection.closed) {
      await session
        .abandon({ holdsSession: connection.holdsSession, statements: connection.assembler.statements })
        .catch((error: unknown) => this.onEvent({ kind: "database-failed", error: databaseFailure(error) }));
      return this.forget(connection);
    }
    try {
      const unit = connection.units.shift();
      const handover = unit && (await settings.giveTo(connection));
      if (unit && handover?.given) {
        const status = await session.run(unit.bytes, (chunk) => connection.send(chunk));
        settings.ran(connection, unit.touchesSettings);
        // Up to a Flush, the sequence goes on (and keeps the session) until its Sync; a lone Flush opens none.
        if (unit.end !== "flush") connection.sequenceOpen = false;
        else if (unit.messages > 1) connection.sequenceOpen = true;
        if (status !== undefined) connection.status = status;
        if (unit.touchesSettings && status !== undefined && status !== "E" && mayChangeServerKept(unit.bytes))
          this.keep(connection, await session.takeServerKept());
      } else if (handover && !handover.given) {
        connection.fail({ code: handover.code, message: handover.message });
        this.drop(connection);
      }
    } catch (error) {
      this.databaseFailed(connection, error);
    }
    this.scheduler.finish(id, connection.holdsSession, Date.now());
    if (connection.closed) this.release(connection);
    else if (connection.units.length > 0) this.scheduler.ready(id, Date.now());
  }

  /** Records settings the server keeps for the connection (see SERVER_KEPT_SETTINGS), and enforces its own. */
  keep(connection: ClientConnection, settings: readonly Setting[]): void {
    for (const [name, value] of settings) connection.keptSettings.set(name.toLowerCase(), value);
    const limit = durationMs(connection.keptSettings.get("idle_in_transaction_session_timeout"));
    this.scheduler.setOwnLimit(connection.id, limit);
  }

  /**
   * PGlite failed outside SQL: the connection whose unit it was is ended, and cleaned up as one gone
   * mid-sequence (whatever its unit left open is rolled back, if PGlite still answers); the others go on.
   */
  private databaseFailed(connection: ClientConnection, error: unknown): void {
    const failure = databaseFailure(error);
    this.onEvent({ kind: "database-failed", error: failure });
    connection.fail({ code: SQLSTATE.internalError, message: failure.message });
    connection.sequenceOpen = true;
    this.drop(connection);
  }

  private armHoldTimer(): void {
    clearTimeout(this.holdTimer);
    const deadline = this.scheduler.holdDeadline();
    if (!deadline || this.stopping) return;
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
