import type { PGlite } from "@electric-sql/pglite";
import { ReadyForQueryScanner } from "./backend-scanner.ts";
import {
  PROTOCOL_3_0,
  bind,
  close,
  cString,
  parameterStatuses,
  simpleQuery,
  sync,
  type TransactionStatus,
} from "./protocol.ts";
import { SERVER_KEPT_SETTINGS, type Setting } from "./startup.ts";

/** What the server uses of PGlite. */
export type SessionDatabase = Pick<
  PGlite,
  "execProtocolRaw" | "execProtocolRawStream" | "query" | "exec" | "runExclusive"
>;

/** A prepared-statement name no connection can have (theirs are `<id>/<name>`): binding it always fails. */
const NO_SUCH_STATEMENT = "pglite-sessions: abort";

/**
 * The database's one session, driven over its wire protocol. Callers run one thing at a time on it (the
 * server's pump does); each step also takes PGlite's own lock, so nothing else in the process cuts in.
 */
export class PgliteSession {
  private readonly db: SessionDatabase;

  constructor(db: SessionDatabase) {
    this.db = db;
  }

  /** The ParameterStatus values PGlite reports to a new connection (server_version, TimeZone, ...). */
  async startupParameters(): Promise<[string, string][]> {
    const parameters = Buffer.concat([
      cString("user"),
      cString("postgres"),
      cString("database"),
      cString("postgres"),
      Buffer.from([0]),
    ]);
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + parameters.length, 0);
    head.writeInt32BE(PROTOCOL_3_0, 4);
    const response = await this.db.runExclusive(() =>
      this.db.execProtocolRaw(Buffer.concat([head, parameters])),
    );
    return parameterStatuses(response);
  }

  /**
   * Runs a unit's messages, streaming the answer to `onData` as PGlite produces it, and returns the status
   * of its last ReadyForQuery (none when the unit ended with a Flush).
   */
  async run(bytes: Uint8Array, onData: (chunk: Buffer) => void): Promise<TransactionStatus | undefined> {
    const scanner = new ReadyForQueryScanner();
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(bytes, {
        onRawData: (data) => {
          // A copy: the bytes are a view of PGlite's buffer, reused by its next answer.
          const chunk = Buffer.from(data);
          scanner.push(chunk);
          onData(chunk);
        },
      }),
    );
    return scanner.takeStatus();
  }

  /** The run-time parameters set in this session (SET, set_config, replaceSettings), server-kept ones aside. */
  async settings(): Promise<Setting[]> {
    const { rows } = await this.db.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE source = 'session' AND name <> ALL($1::text[]) ORDER BY name",
      [SERVER_KEPT_SETTINGS],
    );
    return rows.map((row) => [row.name, row.setting] as const);
  }

  /** The server-kept settings a client set in SQL, taken out of the session (reset) before they fire. */
  async takeServerKept(): Promise<Setting[]> {
    const { rows } = await this.db.query<{ name: string; setting: string }>(
      "SELECT name, setting FROM pg_settings WHERE name = ANY($1::text[]) AND source = 'session'",
      [SERVER_KEPT_SETTINGS],
    );
    // Names from SERVER_KEPT_SETTINGS only: nothing a client wrote goes into this statement.
    if (rows.length > 0) await this.db.exec(rows.map((row) => `RESET ${row.name};`).join(" "));
    return rows.map((row) => [row.name, row.setting] as const);
  }

  async resetSettings(): Promise<void> {
    await this.db.exec("RESET ALL");
  }

  /**
   * Resets the session's settings and sets these, in one statement list (one implicit transaction: a
   * setting the database refuses leaves the session as it was, and the DatabaseError names it).
   */
  async replaceSettings(settings: readonly Setting[]): Promise<void> {
    const assignments = settings.map(
      ([name, value]) => `set_config(${literal(name)}, ${literal(value)}, false)`,
    );
    await this.db.exec(
      assignments.length === 0 ? "RESET ALL" : `RESET ALL; SELECT ${assignments.join(", ")}`,
    );
  }

  /**
   * Cleans up after a connection that went away: an unfinished extended-protocol sequence is ended with
   * an error (so what it ran is not committed), an open transaction is rolled back, and its prepared
   * statements are closed.
   */
  async abandon(options: { holdsSession: boolean; statements: Iterable<string> }): Promise<void> {
    if (options.holdsSession) {
      const status = await this.run(Buffer.concat([bind("", NO_SUCH_STATEMENT), sync()]), () => undefined);
      if (status !== "I") await this.run(simpleQuery("ROLLBACK"), () => undefined);
    }
    const closes = [...options.statements].map((name) => close("S", name));
    if (closes.length > 0) await this.run(Buffer.concat([...closes, sync()]), () => undefined);
  }
}

/** A string literal whatever standard_conforming_strings says (E'': backslashes and quotes doubled). */
function literal(text: string): string {
  return `E'${text.replaceAll("\\", "\\\\").replaceAll("'", "''")}'`;
}
