import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { EntityDatabase } from "@entity/adapters";
import {
  drainQueue,
  migratedTestDatabase,
  startFakeSecretsManager,
  startTestFauxqs,
  type TestDatabase,
  type TestSqsEmulator,
  testPgClient,
} from "@entity/adapters/testing";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Faults real deployments meet, through the built bundle and real Postgres 17 + fauxqs: a rotated secret,
// events the queue always refuses, and work that runs into the function's deadline. Each import of the
// bundle is one warm execution environment; it serves several invocations, as in Lambda.
const repoRoot = resolve(import.meta.dirname, "../../..");
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rotating-AbCdEf";
type BatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type RelayHandler = (event: object, context: Context) => Promise<{ published: number; parked: number }>;

let artifactsDir: string;
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let emulator: TestSqsEmulator;
let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let outboundUrl: string;
let dlqUrl: string;
let imports = 0;
const originalEnv = { ...process.env };

beforeAll(async () => {
  artifactsDir = mkdtempSync(join(tmpdir(), "faults-bundle-"));
  await promisify(execFile)(
    "make",
    ["build-EntityFunction", `ARTIFACTS_DIR=${artifactsDir}`, "BUILD_FLAGS=--quiet"],
    {
      cwd: repoRoot,
    },
  );
  ({ database, db } = await migratedTestDatabase("prodfaults"));
  emulator = await startTestFauxqs();
  // Events longer than 1 KiB are refused by this queue (SQS's InvalidParameterValue, a sender fault).
  outboundUrl = emulator.server.createQueue("outbound", {
    attributes: { MaximumMessageSize: "1024" },
  }).queueUrl;
  dlqUrl = emulator.server.createQueue("dlq").queueUrl;
  secrets = await startFakeSecretsManager({});
}, 120_000);

afterAll(async () => {
  process.env = originalEnv;
  await db?.destroy();
  await secrets?.close();
  await emulator?.server.stop();
});

function functionEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ENV: "dev",
    LOG_LEVEL: "SILENT",
    AWS_LAMBDA_FUNCTION_NAME: `fn-${database.name}`,
    DB_HOST: String(database.config.host),
    DB_PORT: String(database.config.port),
    DB_NAME: database.name,
    DB_USER: String(database.config.user),
    DB_PASSWORD: String(database.config.password),
    OUTBOUND_QUEUE_URL: outboundUrl,
    DLQ_URL: dlqUrl,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ...overrides,
  };
}

/** A fresh execution environment: the bundle imported anew with this environment. */
async function environment<T>(entry: "index" | "relay", env: Record<string, string>): Promise<T> {
  process.env = { ...originalEnv, ...env };
  imports += 1;
  const loaded = (await import(`${join(artifactsDir, `${entry}.mjs`)}?copy=${imports}`)) as { handler: T };
  return loaded.handler;
}

function context(timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: `req-${Date.now()}`,
    functionName: "EntityFunction",
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

function sqsEvent(keys: readonly string[]): SQSEvent {
  return {
    Records: keys.map((key, i) => ({ messageId: `${key}-${i}`, body: key, attributes: {} })),
  } as unknown as SQSEvent;
}

async function queued(queueUrl: string): Promise<string[]> {
  return (await drainQueue(emulator.client, queueUrl)).map((message) => message.Body ?? "");
}

async function count(query: string): Promise<number> {
  return (await sql<{ n: number }>`${sql.raw(`select count(*)::int as n from ${query}`)}`.execute(db))
    .rows[0]!.n;
}

async function createRole(name: string, password: string): Promise<void> {
  await sql.raw(`create role "${name}" login password '${password}'`).execute(db);
  await sql.raw(`grant select, insert, update on entity, observation, outbox to "${name}"`).execute(db);
  await sql.raw(`grant select on kysely_migration, kysely_migration_lock to "${name}"`).execute(db);
  await sql.raw(`grant usage on all sequences in schema public to "${name}"`).execute(db);
}

describe("a rotated database secret", () => {
  it("is refetched when the database refuses the cached one: every record committed once, nothing dead-lettered", async () => {
    const [user, clone] = [`rot_${database.name}`.slice(0, 50), `rot_${database.name}_clone`.slice(0, 60)];
    await createRole(user, "first-password");
    await createRole(clone, "clone-password");
    secrets.rotate(SECRET_ARN, JSON.stringify({ username: user, password: "first-password" }));
    const fetchesBefore = secrets.requests();
    const handler = await environment<BatchHandler>(
      "index",
      functionEnv({ DB_USER: "", DB_PASSWORD: "", DB_SECRET_ARN: SECRET_ARN, DB_SECRET_MAX_AGE_S: "3600" }),
    );
    const keys = (n: number) => Array.from({ length: 3 }, (_, i) => `ROTATED_${n}_${i}_20220101T000000`);
    expect(await handler(sqsEvent(keys(1)), context())).toEqual({ batchItemFailures: [] });

    // Single-user rotation: new password in Postgres and in the secret; the warm connection then drops
    // (as after a failover or an idle timeout), so the next invocation must connect again.
    await sql.raw(`alter role "${user}" password 'second-password'`).execute(db);
    secrets.rotate(SECRET_ARN, JSON.stringify({ username: user, password: "second-password" }));
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${user}`.execute(db);
    expect(await handler(sqsEvent(keys(2)), context())).toEqual({ batchItemFailures: [] });

    // Alternating-users rotation: the secret now names the clone.
    secrets.rotate(SECRET_ARN, JSON.stringify({ username: clone, password: "clone-password" }));
    await sql.raw(`alter role "${user}" password 'retired-password'`).execute(db);
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${user}`.execute(db);
    expect(await handler(sqsEvent(keys(3)), context())).toEqual({ batchItemFailures: [] });

    // Steady state: no more fetches while the cache lives.
    for (let n = 4; n <= 6; n += 1)
      expect(await handler(sqsEvent(keys(n)), context())).toEqual({ batchItemFailures: [] });
    expect(secrets.requests() - fetchesBefore).toBe(3);
    expect(await count("observation where key like 'ROTATED_%'")).toBe(18);
    expect(await queued(dlqUrl)).toEqual([]);
  });

  it("throws (the batch is retried whole) and dead-letters nothing while the secret is wrong", async () => {
    const user = `wrong_${database.name}`.slice(0, 50);
    await createRole(user, "right-password");
    secrets.rotate(SECRET_ARN, JSON.stringify({ username: user, password: "wrong-password" }));
    const handler = await environment<BatchHandler>(
      "index",
      functionEnv({ DB_USER: "", DB_PASSWORD: "", DB_SECRET_ARN: SECRET_ARN }),
    );
    await expect(
      handler(sqsEvent(["REFUSED_20220101T000000", "not a key"]), context()),
    ).rejects.toMatchObject({
      code: "DB_AUTH_FAILED",
    });
    expect(await queued(dlqUrl)).toEqual([]);
  });
});

describe("events the queue always refuses", () => {
  it("are parked after one attempt; 600 of them ahead of good events block nothing", async () => {
    // 600 committed events the outbound queue refuses (over its 1 KiB limit), then 5 good ones that are
    // still pending too (their first delivery failed), all ahead of the next invocation's own events.
    await queued(outboundUrl);
    const refused = Array.from({ length: 600 }, (_, i) => outboxRow(`REFUSED_EVENT_${i}`, "x".repeat(2000)));
    const leftover = Array.from({ length: 5 }, (_, i) => outboxRow(`LEFTOVER_EVENT_${i}`, "m"));
    await db
      .insertInto("outbox")
      .values([...refused, ...leftover])
      .execute();
    const handler = await environment<BatchHandler>("index", functionEnv());
    const keys = Array.from({ length: 5 }, (_, i) => `FRESH_EVENT_${i}_20220101T000000`);
    expect(await handler(sqsEvent(keys), context())).toEqual({ batchItemFailures: [] });
    const relay = await environment<RelayHandler>("relay", functionEnv({ DLQ_URL: "" }));
    expect(await relay({}, context(60_000))).toMatchObject({ published: 5, parked: 600 });
    const delivered = (await queued(outboundUrl)).map(
      (body) => (JSON.parse(body) as { entityName: string }).entityName,
    );
    expect(delivered.sort()).toEqual(
      [...keys.map((key) => key.slice(0, -16)), ...leftover.map((row) => row.entity_name)].sort(),
    );
    expect(
      await count("outbox where parked_at is not null and last_error like '%InvalidParameterValue%'"),
    ).toBe(600);
    expect(await count("outbox where published_at is null and parked_at is null")).toBe(0);
  });
});

describe("the function's deadline", () => {
  it("cancels a statement stuck on a lock, rolls back, returns before the Timeout, and the environment goes on", async () => {
    await db.insertInto("entity").values(entityRow("LOCKED_ENTITY")).execute();
    const holder = await testPgClient(database.config);
    await holder.query("begin");
    await holder.query("select * from entity where name = 'LOCKED_ENTITY' for update");
    const application = `deadline-${database.name}`;
    // The lock wait alone would outlast the invocation: only the deadline can stop it.
    const handler = await environment<BatchHandler>(
      "index",
      functionEnv({ AWS_LAMBDA_FUNCTION_NAME: application, DB_LOCK_TIMEOUT_MS: "60000" }),
    );
    const started = Date.now();
    const response = await handler(sqsEvent(["LOCKED_ENTITY_20220102T000000"]), context(3000));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(response.batchItemFailures).toHaveLength(1);
    const sessions = await sql<{ state: string; wait_event_type: string | null }>`
      select state, wait_event_type from pg_stat_activity where application_name = ${application}`.execute(
      db,
    );
    // Cancelled and rolled back (idle), or, if the rollback was too slow, closed (gone): never holding on.
    for (const session of sessions.rows) {
      expect(session.state).toBe("idle");
      expect(session.wait_event_type).not.toBe("Lock");
    }
    await holder.query("rollback");
    await holder.end();
    expect(await handler(sqsEvent(["LOCKED_ENTITY_20220102T000000"]), context(3000))).toEqual({
      batchItemFailures: [],
    });
  });

  it("gives the function's connections a lock timeout derived from its Timeout", async () => {
    await db.insertInto("entity").values(entityRow("WAITED_ENTITY")).execute();
    const holder = await testPgClient(database.config);
    await holder.query("begin");
    await holder.query("select * from entity where name = 'WAITED_ENTITY' for update");
    const handler = await environment<BatchHandler>("index", functionEnv());
    const started = Date.now();
    const response = await handler(sqsEvent(["WAITED_ENTITY_20220102T000000"]), context(4000));
    // Half the 4 s Timeout: the lock wait ends at 2 s, well before the deadline.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - started).toBeLessThan(3400);
    expect(response.batchItemFailures).toHaveLength(1);
    await holder.query("rollback");
    await holder.end();
  });
});

function outboxRow(entityName: string, messageId: string) {
  const eventId = `00000000-0000-8000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, "0")}`;
  const event = {
    eventId,
    type: "entity.created",
    entityName,
    key: `${entityName}_20220101T000000`,
    observedAt: "2022-01-01T00:00:00.000Z",
    occurredAt: "2026-01-01T00:00:00.000Z",
    messageId,
  };
  return {
    event_id: eventId,
    event_type: event.type,
    entity_name: entityName,
    payload: JSON.stringify(event),
    created_at: new Date("2026-01-01T00:00:00Z"),
    next_attempt_at: new Date("2026-01-01T00:00:00Z"),
  };
}

function entityRow(name: string) {
  const at = new Date("2022-01-01T00:00:00Z");
  return {
    name,
    latest_key: `${name}_20220101T000000`,
    latest_observed_at: at,
    first_seen_at: at,
    updated_at: at,
    observation_count: 1,
  };
}
