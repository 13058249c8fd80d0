// Postgres wire protocol (v3) pieces the session server reads and writes. Pure: bytes in, bytes out.
// Reference: https://www.postgresql.org/docs/current/protocol-message-formats.html

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** The transaction status a ReadyForQuery carries: idle, in a transaction block, in a failed one. */
export type TransactionStatus = "I" | "T" | "E";

/** SQLSTATE codes this server answers with. */
export const SQLSTATE = {
  protocolViolation: "08P01",
  connectionFailure: "08006",
  featureNotSupported: "0A000",
  idleInTransactionTimeout: "25P03",
  queryCanceled: "57014",
  adminShutdown: "57P01",
  tooManyConnections: "53300",
  internalError: "XX000",
} as const;

export function cString(text: string): Buffer {
  return Buffer.concat([Buffer.from(text, "utf8"), Buffer.from([0])]);
}

/** Reads the NUL-terminated string at `offset`; `next` is the offset after its terminator (-1: none). */
export function readCString(bytes: Buffer, offset: number): { value: string; next: number } {
  const end = bytes.indexOf(0, offset);
  if (end === -1) return { value: "", next: -1 };
  return { value: bytes.toString("utf8", offset, end), next: end + 1 };
}

/** A typed message: its type byte, then its length (itself included), then `body`. */
export function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export function readyForQuery(status: TransactionStatus): Buffer {
  return message("Z", Buffer.from(status, "latin1"));
}

export function authenticationOk(): Buffer {
  return message("R", Buffer.from([0, 0, 0, 0]));
}

export function parameterStatus(name: string, value: string): Buffer {
  return message("S", Buffer.concat([cString(name), cString(value)]));
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeInt32BE(processId, 0);
  body.writeInt32BE(secretKey, 4);
  return message("K", body);
}

/** Tells a client asking for protocol 3.x (x > 0) that this server speaks 3.0. */
export function negotiateProtocolVersion(unrecognizedOptions: readonly string[]): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(PROTOCOL_3_0, 0);
  head.writeInt32BE(unrecognizedOptions.length, 4);
  return message("v", Buffer.concat([head, ...unrecognizedOptions.map(cString)]));
}

export interface ErrorFields {
  readonly severity: "ERROR" | "FATAL";
  readonly code: string;
  readonly message: string;
  readonly detail?: string | undefined;
  readonly hint?: string | undefined;
}

export function errorResponse(fields: ErrorFields): Buffer {
  const parts: Buffer[] = [];
  const field = (tag: string, value: string | undefined): void => {
    if (value !== undefined) parts.push(Buffer.from(tag, "latin1"), cString(value));
  };
  field("S", fields.severity);
  field("V", fields.severity);
  field("C", fields.code);
  field("M", fields.message);
  field("D", fields.detail);
  field("H", fields.hint);
  parts.push(Buffer.from([0]));
  return message("E", Buffer.concat(parts));
}

export function simpleQuery(sql: string): Buffer {
  return message("Q", cString(sql));
}

export function sync(): Buffer {
  return message("S");
}

/** Bind with no parameters and no result formats: `portal` over the prepared statement `statement`. */
export function bind(portal: string, statement: string): Buffer {
  return message("B", Buffer.concat([cString(portal), cString(statement), Buffer.alloc(6)]));
}

/** Close ('S': a prepared statement, 'P': a portal). */
export function close(kind: "S" | "P", name: string): Buffer {
  return message("C", Buffer.concat([Buffer.from(kind, "latin1"), cString(name)]));
}

/** The ParameterStatus messages in a backend response (e.g. the answer to a startup packet), in order. */
export function parameterStatuses(response: Uint8Array): [string, string][] {
  const bytes = Buffer.from(response.buffer, response.byteOffset, response.byteLength);
  const found: [string, string][] = [];
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const length = bytes.readInt32BE(offset + 1);
    if (length < 4 || offset + 1 + length > bytes.length) break;
    if (bytes[offset] === 0x53 /* S */) {
      const name = readCString(bytes, offset + 5);
      const value = readCString(bytes, name.next);
      if (value.next !== -1) found.push([name.value, value.value]);
    }
    offset += 1 + length;
  }
  return found;
}
