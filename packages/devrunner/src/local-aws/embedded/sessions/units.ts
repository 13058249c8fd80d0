import type { FrontendMessage } from "./frontend-reader.ts";
import { cString, readCString } from "./protocol.ts";

/** What ends a unit: the message after which the server answers (and may pass the session on). */
export type UnitEnd = "sync" | "query" | "flush" | "function-call";

/**
 * Messages of one connection run together on the session: an extended-protocol sequence up to its Sync
 * (or up to a Flush, when the client wants answers before it goes on), or one simple Query.
 */
export interface Unit {
  readonly bytes: Buffer;
  readonly end: UnitEnd;
  /** Whether it may change the session's settings (see mayTouchSettings): erring towards yes. */
  readonly touchesSettings: boolean;
  /** Its messages, the one that ends it included (a lone Flush asks for nothing new). */
  readonly messages: number;
}

const UNIT_ENDS: Readonly<Record<string, UnitEnd>> = {
  S: "sync",
  Q: "query",
  H: "flush",
  F: "function-call",
};

/**
 * Groups one connection's messages into units and gives its prepared statements and portals names of
 * their own (`<scope>/<name>`), so that two connections' statements named alike do not meet in the one
 * session; the unnamed ones are left alone (they last one sequence, and a sequence is never split).
 */
export class UnitAssembler {
  private readonly scope: string;
  private pending: Buffer[] = [];
  private pendingTouchesSettings = false;
  /** Scoped names of the statements this connection prepared and has not closed. */
  readonly statements = new Set<string>();

  constructor(scope: string) {
    this.scope = `${scope}/`;
  }

  /** Adds a message; returns the unit it ends, if it ends one. */
  push(message: FrontendMessage): Unit | undefined {
    const scoped = this.scoped(withoutCopyFromStdin(message));
    this.pending.push(scoped);
    this.pendingTouchesSettings ||= touchesSettings(message);
    const end = UNIT_ENDS[message.type];
    if (end === undefined) return undefined;
    const bytes = this.pending.length === 1 ? scoped : Buffer.concat(this.pending);
    const unit = { bytes, end, touchesSettings: this.pendingTouchesSettings, messages: this.pending.length };
    this.pending = [];
    this.pendingTouchesSettings = false;
    return unit;
  }

  /** Whether messages are waiting for the message that ends their unit. */
  get partial(): boolean {
    return this.pending.length > 0;
  }

  private scoped(message: FrontendMessage): Buffer {
    switch (message.type) {
      case "P": {
        const rewritten = scopeNames(message.bytes, 5, 1, this.scope);
        if (rewritten.names[0]) this.statements.add(rewritten.names[0]);
        return rewritten.bytes;
      }
      case "B":
        return scopeNames(message.bytes, 5, 2, this.scope).bytes;
      case "E":
        return scopeNames(message.bytes, 5, 1, this.scope).bytes;
      case "D":
      case "C": {
        const rewritten = scopeNames(message.bytes, 6, 1, this.scope);
        if (message.type === "C" && message.bytes[5] === 0x53 /* S */ && rewritten.names[0])
          this.statements.delete(rewritten.names[0]);
        return rewritten.bytes;
      }
      default:
        return message.bytes;
    }
  }
}

const COPY_FROM_STDIN = /\bcopy\b[\s\S]*?\bfrom\s+stdin\b/i;
/** What runs instead of a COPY FROM STDIN: the error Postgres gives for what it does not support. */
const COPY_REFUSED =
  "DO $pglite_sessions$ BEGIN RAISE EXCEPTION USING ERRCODE = 'feature_not_supported', " +
  "MESSAGE = 'COPY ... FROM STDIN is not supported by the embedded database (PGlite exits on it)', " +
  "HINT = 'Use INSERT, or point DB_* at a Postgres server.'; END $pglite_sessions$";

/**
 * A Query or Parse of COPY ... FROM STDIN with its SQL replaced by COPY_REFUSED: PGlite ends its whole
 * process when it is asked to read COPY data, so it must never see one. The error comes from the
 * database, so a transaction it is part of fails as it would on Postgres.
 */
export function withoutCopyFromStdin(message: FrontendMessage): FrontendMessage {
  if (message.type === "Q") {
    if (!COPY_FROM_STDIN.test(readCString(message.bytes, 5).value)) return message;
    return { type: "Q", bytes: rebuild("Q", cString(COPY_REFUSED)) };
  }
  if (message.type === "P") {
    const name = readCString(message.bytes, 5);
    const sql = readCString(message.bytes, name.next);
    if (sql.next === -1 || !COPY_FROM_STDIN.test(sql.value)) return message;
    const body = Buffer.concat([
      message.bytes.subarray(5, name.next),
      cString(COPY_REFUSED),
      Buffer.alloc(2),
    ]);
    return { type: "P", bytes: rebuild("P", body) };
  }
  return message;
}

function rebuild(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Whether a message may change session settings: by its SQL, or by running SQL this server never saw. */
function touchesSettings(message: FrontendMessage): boolean {
  switch (message.type) {
    case "Q":
      return mayTouchSettings(readCString(message.bytes, 5).value);
    case "P":
      return mayTouchSettings(readCString(message.bytes, readCString(message.bytes, 5).next).value);
    case "B": // a named statement was parsed in an earlier unit
      return readCString(message.bytes, readCString(message.bytes, 5).next).value !== "";
    case "F":
      return true;
    default:
      return false;
  }
}

/**
 * Whether SQL may change session settings (SET, RESET, DISCARD, set_config), erring towards yes: it only
 * decides whether the server reads the session's settings back before another connection gets it. The
 * SET of an UPDATE is not a setting. What it cannot see: set_config called inside a function defined
 * earlier (that connection's change is then not kept for its next turn; it never reaches another one).
 */
export function mayTouchSettings(sql: string): boolean {
  const text = sql.toLowerCase();
  if (/set_config|\breset\b|\bdiscard\b/.test(text)) return true;
  return /\bset\b/.test(text.replace(/\bupdate\b[^;]*?\bset\b/g, " "));
}

/**
 * Prefixes the `count` NUL-terminated names that start at `offset` of a typed message with `scope`
 * (empty names stay empty). A malformed message is returned unchanged: the database reports it.
 */
export function scopeNames(
  bytes: Buffer,
  offset: number,
  count: number,
  scope: string,
): { bytes: Buffer; names: (string | undefined)[] } {
  const names: (string | undefined)[] = [];
  const fields: Buffer[] = [];
  let cursor = offset;
  for (let i = 0; i < count; i += 1) {
    const field = readCString(bytes, cursor);
    if (field.next === -1 || cursor > bytes.length) return { bytes, names: [] };
    const name = field.value === "" ? undefined : scope + field.value;
    names.push(name);
    fields.push(cString(name ?? ""));
    cursor = field.next;
  }
  if (names.every((name) => name === undefined)) return { bytes, names };
  const body = Buffer.concat([bytes.subarray(5, offset), ...fields, bytes.subarray(cursor)]);
  return { bytes: rebuild(String.fromCharCode(bytes[0]!), body), names };
}
