import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters/postgres";
import {
  migratedTestDatabase,
  postgresTestImage,
  startPortForward,
  testKysely,
  testServiceOn,
  type TestDatabase,
} from "@entity/adapters/testing";
import { PostgreSqlContainer } from "@testcontainers/postgresql";
import type { Kysely } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import {
  localAwsConfig,
  loadProductionPattern,
  startLocalFlow,
  waitUntil,
  type LocalFlow,
} from "./local-aws/index.ts";
import { withTimeout, writeTemplateWithTimeout } from "./soak/template-timeout.ts";

// Fault injection through the local SNS -> SQS -> EntityFunction flow (fauxqs, the built function,
// Postgres 17), each case asserting the end state of the database, the outbox and the queues.
const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "faults-"));
process.env.DEVRUNNER_BUILD_DIR ??= join(scratch, "build");
// Cases that need failed records back soon use a short visibility timeout; AWS's rule (at least the
// function's Timeout, which the local flow enforces too) then needs a template copy with a short Timeout.
const QUICK_RETRY_SECONDS = 3;
const quickRetryTemplate = join(scratch, "template-quick-retry.yaml");
writeTemplateWithTimeout(
  join(repoRoot, "template.yaml"),
  quickRetryTemplate,
  "EntityFunction",
  QUICK_RETRY_SECONDS,
);
const quickRetries = { templatePath: quickRetryTemplate, visibilityTimeoutSeconds: QUICK_RETRY_SECONDS };
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
});

function functionEnv(
  host: string,
  port: number,
  database: string,
  user: string,
  password: string,
  extra: Record<string, string | number> = {},
): Record<string, string | number> {
  return {
    LOG_LEVEL: "ERROR",
    DB_HOST: host,
    DB_PORT: port,
    DB_NAME: database,
    DB_USER: user,
    DB_PASSWORD: password,
    DB_SSL: "disable",
    DB_SECRET_ARN: "",
    DB_CONNECT_TIMEOUT_MS: 2000,
    ...extra,
  };
}

/** The function's environment for a test database, reached directly. */
function envFor(
  database: TestDatabase,
  extra: Record<string, string | number> = {},
): Record<string, string | number> {
  return functionEnv(
    String(database.config.host),
    Number(database.config.port),
    database.name,
    String(database.config.user),
    String(database.config.password),
    extra,
  );
}

async function openDatabase(prefix: string): Promise<{ database: TestDatabase; db: Kysely<EntityDatabase> }> {
  const { database, db } = await migratedTestDatabase(prefix, { max: 2 });
  cleanups.push(() => db.destroy());
  return { database, db };
}

async function flowOn(options: Partial<Parameters<typeof startLocalFlow>[0]>): Promise<LocalFlow> {
  const flow = await startLocalFlow({
    config: localAwsConfig(process.env, { repositoryRoot: repoRoot }),
    production: { allowed: false, pattern: loadProductionPattern(repoRoot) },
    templatePath: join(repoRoot, "template.yaml"),
    dataDir: join(scratch, "pglite"),
    ...options,
  });
  cleanups.push(() => flow.stop());
  return flow;
}

function publish(flow: LocalFlow, keys: readonly string[]): void {
  const topic = [...flow.cloud.topics.values()][0]!;
  for (const key of keys) flow.cloud.server.publish(topic.name, key);
}

const stored = async (db: Kysely<EntityDatabase>): Promise<number> =>
  Number(
    (
      await db
        .selectFrom("observation")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
const pending = async (db: Kysely<EntityDatabase>): Promise<number> =>
  Number(
    (
      await db
        .selectFrom("outbox")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("published_at", "is", null)
        .executeTakeFirstOrThrow()
    ).n,
  );
const keysOf = (count: number, prefix: string): string[] =>
  Array.from(
    { length: count },
    (_, i) => `${prefix}_${i % 7}_202201${String(1 + Math.floor(i / 7)).padStart(2, "0")}T000000`,
  );

async function assertEverythingOnce(
  flow: LocalFlow,
  db: Kysely<EntityDatabase>,
  keys: readonly string[],
): Promise<void> {
  const rows = await db.selectFrom("observation").select("key").execute();
  expect(rows.map((row) => row.key).sort()).toEqual([...new Set(keys)].sort());
  expect(await waitUntil(async () => (await pending(db)) === 0, 20_000)).toBe(true);
  const committed = new Set(
    (await db.selectFrom("outbox").select("event_id").execute()).map((row) => row.event_id),
  );
  const delivered = new Set(
    flow.bodies("OutboundEventsQueue").map((body) => (JSON.parse(body) as { eventId: string }).eventId),
  );
  expect([...committed].filter((id) => !delivered.has(id))).toEqual([]);
  expect([...delivered].filter((id) => !committed.has(id))).toEqual([]);
}

describe("fault injection through the local flow", () => {
  it("Postgres stopped mid-batch and restarted: every record committed once, none lost", async () => {
    const container = await new PostgreSqlContainer(postgresTestImage()).start();
    cleanups.push(() => container.stop());
    let forward = await startPortForward(container.getHost(), container.getPort());
    const port = forward.port;
    cleanups.push(() => forward.close());
    // Asked afresh each time: a restarted container may be mapped to another host port.
    const direct = () => ({
      host: container.getHost(),
      port: container.getPort(),
      user: container.getUsername(),
      password: container.getPassword(),
      database: container.getDatabase(),
    });
    const db = testKysely(direct(), { max: 1 });
    await migrateToLatest(db);
    await db.destroy();
    const flow = await flowOn({
      functionEnv: functionEnv(
        "127.0.0.1",
        port,
        container.getDatabase(),
        container.getUsername(),
        container.getPassword(),
      ),
      concurrency: 2,
      batchSize: 5,
      ...quickRetries,
    });
    const keys = keysOf(120, "RESTARTED");
    publish(flow, keys);
    await waitUntil(() => flow.outcomes.length >= 3, 20_000, 20);
    await container.restart();
    await forward.close();
    forward = await startPortForward(container.getHost(), container.getPort(), { listenPort: port });
    const after = testKysely(direct(), { max: 1 });
    cleanups.push(() => after.destroy());
    expect(await waitUntil(async () => (await stored(after)) === keys.length, 60_000)).toBe(true);
    expect(flow.outcomes.some((outcome) => outcome.failed.size > 0)).toBe(true);
    await assertEverythingOnce(flow, after, keys);
  });

  it("publishing fails after the commit: events stay pending and go out once the queue is back", async () => {
    const { database, db } = await openDatabase("faults_publish");
    const flow = await flowOn({
      functionEnv: envFor(database),
      concurrency: 2,
      batchSize: 10,
      ...quickRetries,
    });
    const outbound = flow.cloud.queues.get("OutboundEventsQueue")!;
    flow.cloud.server.deleteQueue(outbound.name);
    const keys = keysOf(40, "UNPUBLISHED");
    publish(flow, keys);
    expect(await waitUntil(async () => (await stored(db)) === keys.length, 30_000)).toBe(true);
    expect(await pending(db)).toBeGreaterThan(0);
    flow.cloud.server.createQueue(outbound.name);
    publish(flow, ["NUDGE_20220101T000000"]);
    expect(await waitUntil(async () => (await stored(db)) === keys.length + 1, 30_000)).toBe(true);
    await assertEverythingOnce(flow, db, [...keys, "NUDGE_20220101T000000"]);
  });

  it("an event whose first delivery failed is published by the schedule, with no more traffic", async () => {
    const { database, db } = await openDatabase("faults_stranded");
    const period = 3000;
    // The visibility timeout respects AWS's rule (at least the function's 30 s Timeout), so the record's
    // redelivery cannot be what publishes the event within the test: only the schedule can.
    const flow = await flowOn({
      functionEnv: envFor(database),
      concurrency: 1,
      visibilityTimeoutSeconds: 60,
      schedulePeriodMs: period,
    });
    const outbound = flow.cloud.queues.get("OutboundEventsQueue")!;
    flow.cloud.server.deleteQueue(outbound.name);
    publish(flow, ["STRANDED_20220101T000000"]);
    expect(
      await waitUntil(async () => (await stored(db)) === 1 && flow.outcomes.length === 1, 20_000, 20),
    ).toBe(true);
    expect(flow.outcomes[0]!.failed.size).toBe(1);
    expect(await pending(db)).toBe(1);
    flow.cloud.server.createQueue(outbound.name);
    const recovered = Date.now();
    expect(await waitUntil(async () => (await pending(db)) === 0, 2 * period + 5000, 50)).toBe(true);
    // Within one schedule period of the queue's recovery (plus the first retry's backoff and a margin).
    expect(Date.now() - recovered).toBeLessThan(period + 4000);
    expect(flow.outcomes).toHaveLength(1);
    expect(
      flow.bodies("OutboundEventsQueue").map((body) => (JSON.parse(body) as { key: string }).key),
    ).toEqual(["STRANDED_20220101T000000"]);
  });

  it("the function times out mid-batch: the records come back and are processed once", async () => {
    const { database, db } = await openDatabase("faults_timeout");
    const proxy = await startPortForward(String(database.config.host), Number(database.config.port));
    cleanups.push(() => proxy.close());
    const template = join(scratch, "template-timeout.yaml");
    writeFileSync(
      template,
      readFileSync(join(repoRoot, "template.yaml"), "utf8").replace("Timeout: 30", "Timeout: 3"),
    );
    const flow = await flowOn({
      templatePath: template,
      // A database that hangs (no connect timeout): the function runs into its 3 s Timeout and is killed.
      functionEnv: functionEnv(
        "127.0.0.1",
        proxy.port,
        database.name,
        String(database.config.user),
        String(database.config.password),
        { DB_CONNECT_TIMEOUT_MS: 600000 },
      ),
      concurrency: 1,
      batchSize: 10,
      visibilityTimeoutSeconds: 3,
    });
    // After the flow is up: its schema migration (through the same proxy) should not wait on it.
    proxy.setDelay(4000);
    const keys = keysOf(8, "TIMED_OUT");
    publish(flow, keys);
    expect(
      await waitUntil(
        () => flow.outcomes.some((outcome) => outcome.report.result.status === "timeout"),
        20_000,
      ),
    ).toBe(true);
    proxy.setDelay(0);
    expect(
      await waitUntil(
        async () => (await stored(db)) === keys.length && flow.bodies("EntityQueue").length === 0,
        30_000,
      ),
    ).toBe(true);
    await assertEverythingOnce(flow, db, keys);
  });

  it("each message delivered 3 times and out of order ends as in-order single delivery", async () => {
    const { database, db } = await openDatabase("faults_redelivery");
    const flow = await flowOn({
      functionEnv: envFor(database),
      concurrency: 2,
      batchSize: 7,
      ...quickRetries,
    });
    const keys = keysOf(35, "REDELIVERED");
    let seed = 7;
    const shuffled = [...keys, ...keys, ...keys].sort(
      () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5,
    );
    publish(flow, shuffled);
    expect(
      await waitUntil(
        async () => (await stored(db)) === keys.length && flow.bodies("EntityQueue").length === 0,
        30_000,
      ),
    ).toBe(true);

    const { db: reference } = await openDatabase("faults_reference");
    const service = testServiceOn(reference);
    for (const key of [...keys].sort()) await service.processEntity(key, { messageId: key });
    const state = (handle: Kysely<EntityDatabase>) =>
      handle
        .selectFrom("entity")
        .select(["name", "latest_key", "latest_observed_at", "observation_count"])
        .orderBy("name")
        .execute();
    expect(await state(db)).toEqual(await state(reference));
    await assertEverythingOnce(flow, db, keys);
  });

  it("two pollers on the same queue lose no update on the same entity name", async () => {
    const { database, db } = await openDatabase("faults_concurrency");
    const flow = await flowOn({
      functionEnv: envFor(database),
      concurrency: 2,
      batchSize: 3,
      ...quickRetries,
    });
    const keys = Array.from(
      { length: 48 },
      (_, i) =>
        `CONTENDED_NAME_2022${String(1 + Math.floor(i / 28)).padStart(2, "0")}${String(1 + (i % 28)).padStart(2, "0")}T000000`,
    );
    publish(flow, [...keys].reverse());
    expect(await waitUntil(async () => (await stored(db)) === keys.length, 30_000)).toBe(true);
    const pollers = new Set(flow.outcomes.map((outcome) => outcome.poller));
    expect(pollers.size).toBe(2);
    const entity = await db.selectFrom("entity").selectAll().executeTakeFirstOrThrow();
    expect(entity.observation_count).toBe(48);
    expect(entity.latest_key).toBe([...keys].sort().at(-1));
    await assertEverythingOnce(flow, db, keys);
  });

  it("FIFO: a failure in one group does not reorder that group or block another", async () => {
    const { database, db } = await openDatabase("faults_fifo");
    const template = join(scratch, "template-fifo.yaml");
    writeFileSync(
      template,
      withTimeout(
        readFileSync(join(repoRoot, "template.yaml"), "utf8"),
        "EntityFunction",
        QUICK_RETRY_SECONDS,
      )
        .replace(
          "  EntityDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n",
          "  EntityDeadLetterQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: true\n",
        )
        .replace(
          "  EntityQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n",
          "  EntityQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      FifoQueue: true\n",
        )
        .replace("      Protocol: sqs\n", "      Protocol: lambda\n"),
    );
    const flow = await flowOn({
      templatePath: template,
      // The poison key cannot be set aside by the function (its DLQ goes nowhere), so it fails until the
      // queue's redrive policy moves it to the (FIFO) DLQ after 5 receives.
      functionEnv: envFor(database, { DLQ_URL: "http://127.0.0.1:9/000000000000/nowhere" }),
      concurrency: 2,
      batchSize: 10,
      visibilityTimeoutSeconds: QUICK_RETRY_SECONDS,
    });
    const send = (group: string, body: string, n: number): void => {
      flow.cloud.server.sendMessage(flow.queue.name, body, {
        messageGroupId: group,
        messageDeduplicationId: `${group}-${n}`,
      });
    };
    send("A", "FIFO_A_20220101T000000", 1);
    send("A", "poison in group a", 2);
    send("A", "FIFO_A_20220102T000000", 3);
    send("A", "FIFO_A_20220103T000000", 4);
    ["FIFO_B_20220101T000000", "FIFO_B_20220102T000000", "FIFO_B_20220103T000000"].forEach((key, i) =>
      send("B", key, i),
    );
    const observed = async (name: string): Promise<{ key: string; outcome: string }[]> =>
      db
        .selectFrom("observation")
        .select(["key", "outcome"])
        .where("name", "=", name)
        .orderBy("received_at")
        .orderBy("key")
        .execute();
    expect(await waitUntil(async () => (await observed("FIFO_B")).length === 3, 15_000, 50)).toBe(true);
    // Group B finished while group A was still held behind its failing message.
    expect((await observed("FIFO_A")).map((row) => row.key)).toEqual(["FIFO_A_20220101T000000"]);
    expect(await waitUntil(async () => (await observed("FIFO_A")).length === 3, 30_000)).toBe(true);
    expect((await observed("FIFO_A")).map((row) => [row.key, row.outcome])).toEqual([
      ["FIFO_A_20220101T000000", "created"],
      ["FIFO_A_20220102T000000", "updated"],
      ["FIFO_A_20220103T000000", "updated"],
    ]);
    expect(flow.bodies("EntityDeadLetterQueue")).toEqual(["poison in group a"]);
  });
});
