import { connect } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveSessions, type SessionServer, type SessionServerEvent } from "./index.ts";
import {
  RawClient,
  bindNoParameters,
  describePortal,
  errorCodeOf,
  execute,
  flush,
  parse,
  rowsOf,
  syncMessage,
} from "./testing/raw-client.ts";

// Real pg clients (and a raw one where pg cannot be made to misbehave) against a real PGlite.
let pglite: PGlite;
let server: SessionServer;
const events: SessionServerEvent[] = [];
const opened: pg.Client[] = [];

beforeAll(async () => {
  pglite = await PGlite.create();
  server = await serveSessions({ database: Promise.resolve(pglite), onEvent: (event) => events.push(event) });
});
afterAll(async () => {
  await Promise.all(opened.map((client) => client.end().catch(() => undefined)));
  await server?.close();
  await pglite?.close();
});

async function client(config: pg.ClientConfig = {}, port = server.port): Promise<pg.Client> {
  const created = new pg.Client({
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    ...config,
  });
  created.on("error", () => undefined);
  await created.connect();
  opened.push(created);
  return created;
}

/** Whether `promise` is still pending after the event loop has had `ms` to move it on. */
async function stillPending(promise: Promise<unknown>, ms = 150): Promise<boolean> {
  const marker = Symbol("pending");
  const timer = new Promise((resolve) => setTimeout(() => resolve(marker), ms));
  return (
    (await Promise.race([
      promise.then(
        () => undefined,
        () => undefined,
      ),
      timer,
    ])) === marker
  );
}

describe("serveSessions: PGlite's one session shared by many pg connections", () => {
  it("serves each connection's extended-protocol sequence whole, however the connections interleave", async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, () => client()));
    const results = await Promise.all(
      clients.map(async (c, i) => {
        const rows: unknown[] = [];
        for (let k = 0; k < 40; k += 1) {
          const result = await c.query("SELECT $1::int * 1000 + $2::int AS n, $3::text AS tag", [
            i,
            k,
            `c${i}`,
          ]);
          rows.push(result.rows[0]);
        }
        return rows;
      }),
    );
    expect(results).toEqual(
      clients.map((_, i) => Array.from({ length: 40 }, (__, k) => ({ n: i * 1000 + k, tag: `c${i}` }))),
    );
  });

  it("runs a sequence only at its Sync: another connection's Parse in between changes nothing", async () => {
    const a = await RawClient.connect(server.port);
    const b = await RawClient.connect(server.port);
    a.send(parse("", "SELECT 'a' AS who"));
    b.send(parse("", "SELECT 'b' AS who"), bindNoParameters("", ""), execute(""), syncMessage());
    expect(rowsOf(await b.untilReady())).toEqual([["b"]]);
    a.send(bindNoParameters("", ""), execute(""), syncMessage());
    const answer = await a.untilReady();
    expect(errorCodeOf(answer)).toBeUndefined();
    expect(rowsOf(answer)).toEqual([["a"]]);
  });

  it("keeps named prepared statements apart: two connections, one name, two queries", async () => {
    const [a, b] = await Promise.all([client(), client()]);
    const who = (c: pg.Client, text: string): Promise<unknown> =>
      c.query<{ who: string }>({ name: "who", text }).then((result) => result.rows[0]);
    const first = await Promise.all([who(a, "SELECT 'a' AS who"), who(b, "SELECT 'b' AS who")]);
    // pg parses a named statement once per connection: these run what each connection prepared.
    const again = await Promise.all([who(a, "SELECT 'a' AS who"), who(b, "SELECT 'b' AS who")]);
    expect([...first, ...again]).toEqual([{ who: "a" }, { who: "b" }, { who: "a" }, { who: "b" }]);
  });

  it("keeps a transaction whole across awaits: others wait for it and never see it half done", async () => {
    const setup = await client();
    await setup.query("CREATE TABLE held (id int PRIMARY KEY)");
    const [a, b] = await Promise.all([client(), client()]);
    await a.query("BEGIN");
    await a.query("INSERT INTO held VALUES (1)");
    const counted = b.query<{ n: number }>("SELECT count(*)::int AS n FROM held");
    expect(await stillPending(counted)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await a.query("INSERT INTO held VALUES (2)");
    await a.query("COMMIT");
    expect((await counted).rows[0]?.n).toBe(2);
  });

  it("passes the session on after a failed transaction is rolled back, not before", async () => {
    const [a, b] = await Promise.all([client(), client()]);
    await a.query("BEGIN");
    await expect(a.query("SELECT 1/0")).rejects.toThrow(/division by zero/);
    const other = b.query("SELECT 1");
    expect(await stillPending(other)).toBe(true);
    await a.query("ROLLBACK");
    await other;
  });

  it("gives each connection its own settings: startup parameters, SETs, application_name", async () => {
    const a = await client({ application_name: "alpha", statement_timeout: 4000 });
    const b = await client({ application_name: "beta", options: "-c search_path=pg_catalog" });
    const show = (c: pg.Client) =>
      c
        .query<{ app: string; timeout: string; path: string; style: string }>(
          "SELECT current_setting('application_name') AS app, current_setting('statement_timeout') AS timeout, current_setting('search_path') AS path, current_setting('DateStyle') AS style",
        )
        .then((result) => result.rows[0]);
    await a.query("SET DateStyle = 'German'");
    await b.query("SET statement_timeout = '7s'");
    for (let round = 0; round < 3; round += 1) {
      const [seenByA, seenByB] = await Promise.all([show(a), show(b)]);
      expect(seenByA).toEqual({ app: "alpha", timeout: "4s", path: "public", style: "German, DMY" });
      expect(seenByB).toEqual({ app: "beta", timeout: "7s", path: "pg_catalog", style: "ISO, MDY" });
    }
    const fresh = await client();
    expect(await show(fresh)).toEqual({ app: "", timeout: "0", path: "public", style: "ISO, MDY" });
  });

  it("keeps a SET from twins (connections that started alike) and drops one rolled back", async () => {
    const [a, b] = await Promise.all([
      client({ application_name: "twin" }),
      client({ application_name: "twin" }),
    ]);
    const style = (c: pg.Client) =>
      c
        .query<{ style: string }>("SELECT current_setting('DateStyle') AS style")
        .then((r) => r.rows[0]?.style);
    await a.query("SET DateStyle = 'German'");
    expect(await style(b)).toBe("ISO, MDY");
    expect(await style(a)).toBe("German, DMY");
    await a.query("BEGIN");
    await a.query("SET DateStyle = 'SQL'");
    await a.query("ROLLBACK");
    expect(await style(b)).toBe("ISO, MDY");
    expect(await style(a)).toBe("German, DMY");
  });

  it("refuses a connection whose startup settings the database refuses, on its first statement", async () => {
    const bad = await client({ options: "-c no_such_setting=1" });
    await expect(bad.query("SELECT 1")).rejects.toThrow(
      /unrecognized configuration parameter "no_such_setting"/,
    );
    expect((await (await client()).query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  it("rolls back the transaction of a client killed mid-transaction, and frees the session", async () => {
    const setup = await client();
    await setup.query("CREATE TABLE killed (id int)");
    const doomed = await client();
    await doomed.query("BEGIN");
    await doomed.query("INSERT INTO killed VALUES (1)");
    const waiting = setup.query<{ n: number }>("SELECT count(*)::int AS n FROM killed");
    expect(await stillPending(waiting)).toBe(true);
    (doomed as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    expect((await waiting).rows[0]?.n).toBe(0);
  });

  it("commits nothing of a sequence whose client vanished before its Sync", async () => {
    const setup = await client();
    await setup.query("CREATE TABLE unsynced (id int)");
    const raw = await RawClient.connect(server.port);
    raw.send(parse("", "INSERT INTO unsynced VALUES (1)"), bindNoParameters("", ""), execute(""), flush());
    await raw.until((messages) => messages.findIndex((m) => m.type === "C"));
    const waiting = setup.query<{ n: number }>("SELECT count(*)::int AS n FROM unsynced");
    expect(await stillPending(waiting)).toBe(true);
    raw.kill();
    expect((await waiting).rows[0]?.n).toBe(0);
  });

  it("cancels a statement still waiting for the session (57014); the connection goes on", async () => {
    const [holder, waiter] = await Promise.all([client(), client()]);
    await holder.query("BEGIN");
    const waiting = waiter.query("SELECT 'never' AS x");
    expect(await stillPending(waiting)).toBe(true);
    const key = waiter as unknown as { processID: number; secretKey: number };
    await sendCancel(key.processID, key.secretKey + 1); // a wrong key: no effect
    expect(await stillPending(waiting)).toBe(true);
    await sendCancel(key.processID, key.secretKey);
    await expect(waiting).rejects.toMatchObject({ code: "57014" });
    await holder.query("COMMIT");
    expect((await waiter.query("SELECT 'after' AS x")).rows).toEqual([{ x: "after" }]);
    await sendCancel(key.processID, key.secretKey); // nothing waiting: no effect
    expect((await waiter.query("SELECT 'still' AS x")).rows).toEqual([{ x: "still" }]);
  });

  it("refuses COPY FROM STDIN (PGlite would exit) as Postgres refuses what it cannot do, and goes on", async () => {
    const c = await client();
    await expect(c.query("COPY pg_catalog.pg_am FROM STDIN")).rejects.toMatchObject({ code: "0A000" });
    await c.query("BEGIN");
    await expect(c.query("COPY pg_catalog.pg_am FROM STDIN")).rejects.toMatchObject({ code: "0A000" });
    await expect(c.query("SELECT 1")).rejects.toMatchObject({ code: "25P02" }); // the transaction failed
    await c.query("ROLLBACK");
    expect((await c.query("SELECT 'still here' AS state")).rows).toEqual([{ state: "still here" }]);
  });

  it("answers garbage with a protocol error and goes on serving others", async () => {
    const raw = await RawClient.connect(server.port);
    raw.send(Buffer.from([0x51, 0, 0, 0, 1]));
    expect(errorCodeOf(await raw.untilReady())).toBe("08P01");
    expect(raw.isClosed).toBe(true);
    expect((await (await client()).query("SELECT 2 AS ok")).rows).toEqual([{ ok: 2 }]);
  });

  it("describes and runs a portal fetched after a Flush, then the session passes on at Sync", async () => {
    const raw = await RawClient.connect(server.port);
    raw.send(parse("", "SELECT 41 + 1 AS answer"), bindNoParameters("", ""), describePortal(""), flush());
    await raw.until((messages) => messages.findIndex((m) => m.type === "T"));
    raw.send(execute(""), syncMessage());
    expect(rowsOf(await raw.untilReady())).toEqual([["42"]]);
    expect((await (await client()).query("SELECT 3 AS ok")).rows).toEqual([{ ok: 3 }]);
  });
});

function sendCancel(processId: number, secretKey: number): Promise<void> {
  return new Promise((resolve) => {
    const body = Buffer.alloc(16);
    body.writeInt32BE(16, 0);
    body.writeInt32BE(80877102, 4);
    body.writeInt32BE(processId, 8);
    body.writeInt32BE(secretKey, 12);
    const socket = connect(server.port, "127.0.0.1", () => socket.end(body));
    socket.on("close", () => resolve());
    socket.on("error", () => resolve());
  });
}
