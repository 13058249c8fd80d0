import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReadyForQueryScanner } from "./backend-scanner.ts";
import { FrontendReader, type FrontendPacket } from "./frontend-reader.ts";
import {
  CANCEL_REQUEST_CODE,
  PROTOCOL_3_0,
  SSL_REQUEST_CODE,
  cString,
  errorResponse,
  message,
  parameterStatus,
  parameterStatuses,
  readyForQuery,
} from "./protocol.ts";

function untyped(code: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(code, 4);
  return Buffer.concat([head, body]);
}

function startupMessage(parameters: Record<string, string>): Buffer {
  const pairs = Object.entries(parameters).flatMap(([name, value]) => [cString(name), cString(value)]);
  return untyped(PROTOCOL_3_0, Buffer.concat([...pairs, Buffer.from([0])]));
}

function cancelRequest(processId: number, secretKey: number): Buffer {
  const body = Buffer.alloc(8);
  body.writeInt32BE(processId, 0);
  body.writeInt32BE(secretKey, 4);
  return untyped(CANCEL_REQUEST_CODE, body);
}

const query = (sql: string): Buffer => message("Q", cString(sql));

function readAll(reader: FrontendReader): FrontendPacket[] {
  const packets: FrontendPacket[] = [];
  for (let packet = reader.read(); packet; packet = reader.read()) packets.push(packet);
  return packets;
}

/** Feeds `bytes` to a reader cut at `cuts` (offsets), reading after each piece. */
function readInPieces(bytes: Buffer, cuts: number[]): FrontendPacket[] {
  const reader = new FrontendReader();
  const packets: FrontendPacket[] = [];
  let start = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b).concat(bytes.length)) {
    reader.push(bytes.subarray(start, cut));
    packets.push(...readAll(reader));
    start = cut;
  }
  return packets;
}

describe("FrontendReader: a client's bytes as packets", () => {
  it("reads an SSL request, the startup message and then typed messages", () => {
    const reader = new FrontendReader();
    reader.push(
      Buffer.concat([
        untyped(SSL_REQUEST_CODE),
        startupMessage({ user: "postgres", database: "postgres", application_name: "fn" }),
        query("select 1"),
        message("S"),
      ]),
    );
    const packets = readAll(reader);
    expect(packets.map((packet) => packet.kind)).toEqual([
      "startup-packet",
      "startup-packet",
      "message",
      "message",
    ]);
    expect(packets[0]).toEqual({ kind: "startup-packet", packet: { kind: "ssl-request" } });
    expect(packets[1]).toEqual({
      kind: "startup-packet",
      packet: {
        kind: "startup",
        major: 3,
        minor: 0,
        parameters: new Map([
          ["user", "postgres"],
          ["database", "postgres"],
          ["application_name", "fn"],
        ]),
      },
    });
    expect(packets[2]).toMatchObject({ kind: "message", message: { type: "Q", bytes: query("select 1") } });
    expect(packets[3]).toMatchObject({ kind: "message", message: { type: "S" } });
  });

  it("reads a cancel request's key", () => {
    const reader = new FrontendReader();
    reader.push(cancelRequest(7, 123456789));
    expect(readAll(reader)).toEqual([
      { kind: "startup-packet", packet: { kind: "cancel", processId: 7, secretKey: 123456789 } },
    ]);
  });

  it("gives the same packets however the bytes are cut", () => {
    const bytes = Buffer.concat([
      untyped(SSL_REQUEST_CODE),
      startupMessage({ user: "u", statement_timeout: "30000" }),
      query("begin"),
      message("P", Buffer.concat([cString(""), cString("select $1"), Buffer.alloc(2)])),
      message("S"),
    ]);
    const whole = readInPieces(bytes, []);
    expect(whole).toHaveLength(5);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }), (cuts) => {
        expect(readInPieces(bytes, cuts)).toEqual(whole);
      }),
    );
  });

  it("refuses impossible lengths, then reads nothing more", () => {
    const short = new FrontendReader();
    short.push(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]));
    expect(short.read()).toEqual({ kind: "invalid", reason: "invalid startup packet length 4" });
    const typed = new FrontendReader();
    typed.push(Buffer.concat([startupMessage({ user: "u" }), Buffer.from([0x51, 0, 0, 0, 2])]));
    expect(typed.read()?.kind).toBe("startup-packet");
    expect(typed.read()).toEqual({ kind: "invalid", reason: "invalid message length 2" });
    typed.push(query("select 1"));
    expect(typed.read()).toBeUndefined();
  });

  it("refuses a startup message whose parameters are not terminated", () => {
    const reader = new FrontendReader();
    reader.push(untyped(PROTOCOL_3_0, Buffer.concat([cString("user"), Buffer.from("postgres")])));
    expect(reader.read()).toEqual({ kind: "invalid", reason: "malformed startup packet" });
  });
});

describe("ReadyForQueryScanner: the transaction status in a streamed answer", () => {
  const answer = Buffer.concat([
    message("C", cString("BEGIN")),
    readyForQuery("T"),
    errorResponse({ severity: "ERROR", code: "22012", message: "division by zero" }),
    readyForQuery("E"),
    message("C", cString("ROLLBACK")),
    readyForQuery("I"),
  ]);

  it("keeps the last status however the answer is chunked", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: answer.length }), { maxLength: 10 }), (cuts) => {
        const scanner = new ReadyForQueryScanner();
        let start = 0;
        for (const cut of [...new Set(cuts)].sort((a, b) => a - b).concat(answer.length)) {
          scanner.push(answer.subarray(start, cut));
          start = cut;
        }
        expect(scanner.takeStatus()).toBe("I");
      }),
    );
  });

  it("sees the status of each answer, byte by byte too", () => {
    const scanner = new ReadyForQueryScanner();
    const first = answer.subarray(0, answer.indexOf(readyForQuery("T")) + 6);
    for (const byte of first) scanner.push(Buffer.from([byte]));
    expect(scanner.takeStatus()).toBe("T");
    expect(scanner.takeStatus()).toBeUndefined();
    scanner.push(Buffer.concat([message("1"), message("2")]));
    expect(scanner.takeStatus()).toBeUndefined();
  });
});

describe("protocol helpers", () => {
  it("reads the ParameterStatus messages of a startup answer", () => {
    const answer = Buffer.concat([
      message("R", Buffer.alloc(4)),
      parameterStatus("server_version", "18.6"),
      parameterStatus("TimeZone", "UTC"),
      readyForQuery("I"),
    ]);
    expect(parameterStatuses(answer)).toEqual([
      ["server_version", "18.6"],
      ["TimeZone", "UTC"],
    ]);
  });
});
