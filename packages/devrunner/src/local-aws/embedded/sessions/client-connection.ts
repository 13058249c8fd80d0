import { randomInt } from "node:crypto";
import type { Socket } from "node:net";
import { FrontendReader } from "./frontend-reader.ts";
import { errorResponse, type ErrorFields, type TransactionStatus } from "./protocol.ts";
import { settingValue, type Setting } from "./startup.ts";
import { UnitAssembler, type Unit } from "./units.ts";

/**
 * One client connection and what the server knows of its session: its units waiting to run, the
 * settings its session has (kept here while another connection has the session), the transaction status
 * of its last ReadyForQuery, and whether its extended-protocol sequence is still open.
 */
export class ClientConnection {
  readonly id: number;
  /** The BackendKeyData secret a cancel request for this connection must carry. */
  readonly secretKey = randomInt(1, 2 ** 31 - 1);
  readonly socket: Socket;
  readonly reader = new FrontendReader();
  readonly assembler: UnitAssembler;
  phase: "startup" | "ready" | "closed" = "startup";
  units: Unit[] = [];
  /** Its run-time settings but the server-kept ones (SERVER_KEPT_SETTINGS), which are in `keptSettings`. */
  settings: readonly Setting[] = [];
  readonly keptSettings = new Map<string, string>();
  /** Whether `settings` were taken by the database once (startup parameters are checked on first use). */
  settingsAccepted = false;
  /** Whether it ran something that may have changed its settings since it got the session. */
  settingsTouched = false;
  status: TransactionStatus = "I";
  sequenceOpen = false;

  constructor(id: number, socket: Socket) {
    this.id = id;
    this.socket = socket;
    this.assembler = new UnitAssembler(String(id));
  }

  get closed(): boolean {
    return this.phase === "closed";
  }

  /** Whether it keeps the session between its units: inside a transaction or an unfinished sequence. */
  get holdsSession(): boolean {
    return this.sequenceOpen || this.status !== "I";
  }

  get applicationName(): string {
    return settingValue(this.settings, "application_name") ?? "";
  }

  send(bytes: Buffer): void {
    if (this.socket.writable) this.socket.write(bytes);
  }

  /** Ends the connection with a FATAL error, as Postgres does (the client reads it, then the close). */
  fail(fields: Omit<ErrorFields, "severity">): void {
    this.send(errorResponse({ severity: "FATAL", ...fields }));
    this.socket.end();
    // A client that does not close its side is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }
}
