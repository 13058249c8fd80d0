import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveSessions, type SessionDatabase, type SessionServer, type SessionServerEvent } from "./index.ts";
import { RawClient, flush, query, rowsOf } from "./testing/raw-client.ts";

// What bounds a connection that keeps the session and does nothing with it, with a real PGlite.
let pglite: PGlite;
let server: SessionServer;
const events: SessionServerEvent[] = [];
const opened: pg.Client[] = [];

beforeAll(async () => {
  pglite = await PGlite.create();
  await pglite.exec("CREATE TABLE stuck (id int)");
  server = await serveSessions({
    database: Promise.resolve(pglite),
    othersWaitingLimitMs: 300,
    onEvent: (event) => events.push(event),
  });
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

const count = async (c: pg.Client): Promise<number> =>
  (await c.query<{ n: number }>("SELECT count(*)::int AS n FROM stuck")).rows[0]!.n;

describe("serveSessions: a stuck holder cannot block the others for ever", () => {
  it("ends a connection idle in a transaction while others wait (25P03), rolling it back", async () => {
    const stuck = await client({ application_name: "stuck-one" });
    const ended = new Promise<Error>((resolve) => stuck.once("error", resolve));
    await stuck.query("BEGIN");
    await stuck.query("INSERT INTO stuck VALUES (1)");
    const other = await client();
    // It waits for the limit (300 ms here), then gets the session, without the stuck one's row.
    expect(await count(other)).toBe(0);
    expect((await ended).message).toMatch(/held the embedded database's only session idle .* for 300 ms/);
    await expect(stuck.query("SELECT 1")).rejects.toThrow();
    expect(events).toContainEqual({
      kind: "holder-ended",
      connection: expect.any(Number) as number,
      applicationName: "stuck-one",
      limit: "others-waiting",
      limitMs: 300,
    });
  });

  it("ends a connection past its own idle_in_transaction_session_timeout, others waiting or not", async () => {
    const own = await client({ idle_in_transaction_session_timeout: 100 });
    const ended = new Promise<Error>((resolve) => own.once("error", resolve));
    await own.query("BEGIN");
    await own.query("INSERT INTO stuck VALUES (2)");
    expect((await ended).message).toMatch(/idle-in-transaction timeout/);
    expect(await count(await client())).toBe(0);
  });

  it("keeps the session timeouts PGlite cannot take out of it (it would hang), and enforces its own", async () => {
    const setter = await client();
    await setter.query("SET idle_session_timeout = 100");
    await setter.query("SET IDLE_IN_TRANSACTION_SESSION_TIMEOUT = '150ms'");
    await setter.query("BEGIN");
    await setter.query("SET LOCAL transaction_timeout = 100");
    await setter.query("COMMIT");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await setter.query("SELECT 'answered' AS state")).rows).toEqual([{ state: "answered" }]);
    const ended = new Promise<Error>((resolve) => setter.once("error", resolve));
    await setter.query("BEGIN");
    expect((await ended).message).toMatch(/idle-in-transaction timeout/);
    expect(await count(await client())).toBe(0);
  });

  it("takes a lone Flush for no sequence: it holds nothing, so it is not ended for holding", async () => {
    const raw = await RawClient.connect(server.port);
    raw.send(flush());
    // Had the Flush kept the session, this would wait for the limit and the raw client would be ended.
    expect((await (await client()).query("SELECT 'served' AS state")).rows).toEqual([{ state: "served" }]);
    expect(raw.isClosed).toBe(false);
    raw.send(query("SELECT 1"));
    expect(rowsOf(await raw.untilReady())).toEqual([["1"]]);
    raw.kill();
  });

  it("leaves an idle connection outside a transaction alone, however long", async () => {
    const idle = await client({ idle_in_transaction_session_timeout: 100 });
    await idle.query("SELECT 1");
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await count(await client())).toBe(0);
    expect((await idle.query("SELECT 'alive' AS state")).rows).toEqual([{ state: "alive" }]);
  });
});

describe("serveSessions: a database that fails", () => {
  it("refuses connections with the reason (08006), and does not crash", async () => {
    const failing = await serveSessions({ database: Promise.reject(new Error("the folder is locked")) });
    try {
      await expect(client({}, failing.port)).rejects.toMatchObject({
        code: "08006",
        message: expect.stringMatching(/the embedded database did not open: the folder is locked/) as string,
      });
    } finally {
      await failing.close();
    }
  });

  it("ends the connection whose unit PGlite failed on outside SQL (XX000); the others go on", async () => {
    // PGlite's own failure (its WebAssembly aborting) cannot be caused from SQL: this one is injected.
    const failing: SessionDatabase = {
      execProtocolRaw: (message, options) => pglite.execProtocolRaw(message, options),
      execProtocolRawStream: (message, options) => {
        if (Buffer.from(message).includes("explode")) throw new Error("RuntimeError: unreachable");
        return pglite.execProtocolRawStream(message, options);
      },
      query: (sql, params, options) => pglite.query(sql, params, options),
      exec: (sql, options) => pglite.exec(sql, options),
      runExclusive: (fn) => pglite.runExclusive(fn),
    };
    const seen: SessionServerEvent[] = [];
    const flaky = await serveSessions({ database: Promise.resolve(failing), onEvent: (e) => seen.push(e) });
    try {
      const doomed = await client({}, flaky.port);
      await doomed.query("BEGIN");
      await expect(doomed.query("SELECT 'explode'")).rejects.toMatchObject({
        code: "XX000",
        message: "the embedded database failed: RuntimeError: unreachable",
      });
      expect(seen).toMatchObject([{ kind: "database-failed", error: { code: "SESSION_DATABASE_FAILED" } }]);
      const other = await client({}, flaky.port);
      expect((await other.query("SELECT 'fine' AS state")).rows).toEqual([{ state: "fine" }]);
      expect(pglite.isInTransaction()).toBe(false);
    } finally {
      await flaky.close();
    }
  });
});
