import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { mkdtempSync } from "node:fs";
import type { EntityDatabase } from "@entity/adapters/postgres";
import { migratedTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let envFile: string;

beforeAll(async () => {
  ({ database, db } = await migratedTestDatabase("outbox_cli"));
  envFile = join(mkdtempSync(join(tmpdir(), "outbox-")), "dev.env");
  writeFileSync(envFile, `DATABASE_URL=${database.connectionString}\nDB_SSL=disable\nENV=dev\n`);
});
afterAll(async () => {
  await db?.destroy();
});

function outboxRow(name: string, parked: boolean) {
  const eventId = `00000000-0000-8000-8000-${name.length.toString().padStart(4, "0")}${String(Date.now() % 1e8).padStart(8, "0")}`;
  const at = new Date("2026-01-01T00:00:00Z");
  return {
    event_id: eventId,
    event_type: "entity.created",
    entity_name: name,
    payload: JSON.stringify({
      eventId,
      type: "entity.created",
      entityName: name,
      key: `${name}_20220101T000000`,
      observedAt: "2022-01-01T00:00:00.000Z",
      occurredAt: at.toISOString(),
      messageId: "m",
    }),
    attempts: parked ? 5 : 1,
    last_error: "SQS rejected the message: InvalidParameterValue: too long",
    next_attempt_at: at,
    parked_at: parked ? at : null,
  };
}

describe("devrunner outbox", () => {
  it("lists pending and parked events, and redrives parked ones by id", async () => {
    const parked = outboxRow("PARKED_ONE", true);
    const pending = outboxRow("PENDING_TWO", false);
    await db.insertInto("outbox").values([parked, pending]).execute();
    const env = isolatedEnv();

    const listed = await runCli(["outbox", "--env-file", envFile], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(
        `^parked +${parked.event_id} +entity.created PARKED_ONE +attempts=5 +parked 2026-01-01T00:00:00.000Z +last error: SQS rejected`,
        "m",
      ),
    );
    expect(listed.stdout).toMatch(
      new RegExp(`^pending +${pending.event_id} +entity.created PENDING_TWO +attempts=1 +next attempt`, "m"),
    );

    const json = await runCli(["outbox", "--state", "parked", "--json", "--env-file", envFile], env);
    const document = JSON.parse(json.stdout) as { events: { state: string; event: { eventId: string } }[] };
    expect(document.events.map((entry) => [entry.state, entry.event.eventId])).toEqual([
      ["parked", parked.event_id],
    ]);

    const unknown = await runCli(["outbox", "--redrive", "not-an-event", "--env-file", envFile], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("not parked: not-an-event");

    const redriven = await runCli(["outbox", "--redrive", parked.event_id, "--env-file", envFile], env);
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toContain(`redriven  ${parked.event_id}`);
    const row = await db
      .selectFrom("outbox")
      .selectAll()
      .where("event_id", "=", parked.event_id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ parked_at: null, attempts: 0 });
  });

  it("refuses to redrive on production without --allow-prod, but lists; bad flags exit 2", async () => {
    const prod = isolatedEnv({ ENV: "prod" });
    expect((await runCli(["outbox", "--db", "memory"], prod)).code).toBe(0);
    expect((await runCli(["outbox", "--redrive", "--db", "memory"], prod)).code).toBe(3);
    const bad = await runCli(["outbox", "--state", "lost", "--db", "memory"], isolatedEnv());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--state must be pending, parked or all, not 'lost'");
  });

  it("works on the embedded default", async () => {
    const result = await runCli(["outbox"], isolatedEnv());
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("target: embedded PGlite");
    expect(result.stdout).toContain("0 event(s) pending or parked");
  });
});
