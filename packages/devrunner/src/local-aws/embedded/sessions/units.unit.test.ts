import { describe, expect, it } from "vitest";
import type { FrontendMessage } from "./frontend-reader.ts";
import { cString, message } from "./protocol.ts";
import { UnitAssembler, mayTouchSettings, withoutCopyFromStdin } from "./units.ts";

const frontend = (type: string, ...fields: Buffer[]): FrontendMessage => ({
  type,
  bytes: message(type, Buffer.concat(fields)),
});
const parse = (name: string, sql: string): FrontendMessage =>
  frontend("P", cString(name), cString(sql), Buffer.from([0, 0]));
const bind = (portal: string, statement: string): FrontendMessage =>
  frontend("B", cString(portal), cString(statement), Buffer.from([0, 0, 0, 0, 0, 0]));
const describeStatement = (name: string): FrontendMessage => frontend("D", Buffer.from("S"), cString(name));
const execute = (portal: string): FrontendMessage => frontend("E", cString(portal), Buffer.alloc(4));
const closeStatement = (name: string): FrontendMessage => frontend("C", Buffer.from("S"), cString(name));
const sync = frontend("S");
const flush = frontend("H");

/** The C strings of a message body, in order (the fields the tests look at are all C strings). */
function names(bytes: Buffer, from: number, count: number): string[] {
  const found: string[] = [];
  let offset = from;
  for (let i = 0; i < count; i += 1) {
    const end = bytes.indexOf(0, offset);
    found.push(bytes.toString("utf8", offset, end));
    offset = end + 1;
  }
  expect(bytes.readInt32BE(1)).toBe(bytes.length - 1);
  return found;
}

describe("UnitAssembler: a connection's messages in units", () => {
  it("ends a unit at Sync, Query, Flush and FunctionCall, keeping the messages before", () => {
    const assembler = new UnitAssembler("1");
    expect(assembler.push(parse("", "select 1"))).toBeUndefined();
    expect(assembler.push(bind("", ""))).toBeUndefined();
    expect(assembler.partial).toBe(true);
    const unit = assembler.push(sync);
    expect(unit).toMatchObject({ end: "sync", messages: 3 });
    expect(unit?.bytes).toEqual(Buffer.concat([parse("", "select 1").bytes, bind("", "").bytes, sync.bytes]));
    expect(assembler.partial).toBe(false);
    expect(assembler.push(frontend("Q", cString("begin")))?.end).toBe("query");
    expect(assembler.push(flush)).toMatchObject({ end: "flush", messages: 1 });
    expect(assembler.push(frontend("F", Buffer.alloc(8)))?.end).toBe("function-call");
  });

  it("leaves unnamed statements and portals as they are", () => {
    const assembler = new UnitAssembler("7");
    const messages = [parse("", "select 1"), bind("", ""), describeStatement(""), execute(""), sync];
    const unit = messages.map((m) => assembler.push(m)).at(-1);
    expect(unit?.bytes).toEqual(Buffer.concat(messages.map((m) => m.bytes)));
    expect(assembler.statements.size).toBe(0);
  });

  it("gives named statements and portals the connection's scope, and tracks its statements", () => {
    const assembler = new UnitAssembler("7");
    assembler.push(parse("fetch_entity", "select $1"));
    assembler.push(bind("cursor", "fetch_entity"));
    assembler.push(describeStatement("fetch_entity"));
    assembler.push(execute("cursor"));
    const unit = assembler.push(sync)!;
    const [p, b, d, e] = splitMessages(unit.bytes);
    expect(names(p!, 5, 2)).toEqual(["7/fetch_entity", "select $1"]);
    expect(names(b!, 5, 2)).toEqual(["7/cursor", "7/fetch_entity"]);
    expect(names(d!, 6, 1)).toEqual(["7/fetch_entity"]);
    expect(names(e!, 5, 1)).toEqual(["7/cursor"]);
    expect([...assembler.statements]).toEqual(["7/fetch_entity"]);
    assembler.push(closeStatement("fetch_entity"));
    expect([...assembler.statements]).toEqual([]);
  });

  it("passes a malformed message on unchanged (the database reports it)", () => {
    const assembler = new UnitAssembler("7");
    const broken = frontend("P", Buffer.from("no terminator"));
    assembler.push(broken);
    expect(assembler.push(sync)?.bytes).toEqual(Buffer.concat([broken.bytes, sync.bytes]));
  });
});

describe("withoutCopyFromStdin: PGlite never sees a COPY FROM STDIN (it exits on one)", () => {
  it("replaces the SQL of a Query or a Parse with a statement that fails with 0A000", () => {
    for (const message of [
      frontend("Q", cString("COPY entity (name) FROM STDIN")),
      parse("s", "copy entity from stdin with (format csv)"),
    ]) {
      const replaced = withoutCopyFromStdin(message);
      expect(replaced.type).toBe(message.type);
      expect(replaced.bytes.readInt32BE(1)).toBe(replaced.bytes.length - 1);
      expect(replaced.bytes.toString("latin1")).toMatch(
        /RAISE EXCEPTION USING ERRCODE = 'feature_not_supported'/,
      );
      expect(replaced.bytes.toString("latin1")).not.toMatch(/entity/);
    }
  });

  it("leaves everything else alone, COPY TO STDOUT included", () => {
    for (const message of [
      frontend("Q", cString("COPY entity TO STDOUT")),
      parse("", "SELECT 'from stdin'"),
      bind("", ""),
    ])
      expect(withoutCopyFromStdin(message)).toBe(message);
  });
});

describe("mayTouchSettings: whether SQL may change session settings (erring towards yes)", () => {
  it("sees SET, RESET, DISCARD and set_config, in any case and after other statements", () => {
    for (const sql of [
      "SET search_path = app",
      "set local lock_timeout = '1s'",
      "SELECT 1; SET DateStyle = 'German'",
      "RESET ALL",
      "DISCARD ALL",
      "SELECT set_config('application_name', 'x', false)",
      "SELECT 'update'; SET x.y = 1",
    ])
      expect(mayTouchSettings(sql), sql).toBe(true);
  });

  it("does not take the SET of an UPDATE (or of an upsert) for a setting", () => {
    for (const sql of [
      "UPDATE entity SET latest_key = $1 WHERE name = $2",
      'insert into "observation" ("key") values ($1) on conflict ("key") do update set "key" = excluded."key"',
      "SELECT * FROM entity WHERE name = $1 FOR UPDATE",
      "SELECT offset_value FROM t",
    ])
      expect(mayTouchSettings(sql), sql).toBe(false);
  });

  it("marks the unit: its SQL, or a named statement it cannot see", () => {
    const assembler = new UnitAssembler("1");
    assembler.push(parse("", "UPDATE t SET a = 1"));
    expect(assembler.push(sync)?.touchesSettings).toBe(false);
    expect(assembler.push(frontend("Q", cString("SET search_path = app")))?.touchesSettings).toBe(true);
    expect(assembler.push(frontend("Q", cString("SELECT 1")))?.touchesSettings).toBe(false);
    assembler.push(parse("", "select set_config('a.b', '1', false)"));
    expect(assembler.push(sync)?.touchesSettings).toBe(true);
    assembler.push(bind("", "prepared_earlier"));
    expect(assembler.push(sync)?.touchesSettings).toBe(true);
  });
});

function splitMessages(bytes: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const length = bytes.readInt32BE(offset + 1);
    messages.push(bytes.subarray(offset, offset + 1 + length));
    offset += 1 + length;
  }
  return messages;
}
