import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters";
import { createTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { localSqsClient } from "./local-aws/cloud/local-cloud.ts";
import type { UpState } from "./local-aws/cloud/state.ts";
import { writeTemplateWithTimeout } from "./soak/template-timeout.ts";
import { isolatedEnv, runCli, startCli } from "./testing/cli.ts";

// Stopping and restarting `up` (#14 part 2): Ctrl-C does not wait for a hung invocation's Timeout, and the
// queues keep their messages across a restart (--fresh starts empty). An invocation hangs on a lock this
// test holds on the entity table, with a 60 s Timeout.
const scratch = mkdtempSync(join(tmpdir(), "up-restart-"));
const template = join(scratch, "template-60s.yaml");
const buildDir = join(scratch, "build");
writeTemplateWithTimeout(join(import.meta.dirname, "../../../template.yaml"), template, "EntityFunction", 60);
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let vars: string;

beforeAll(async () => {
  database = await createTestDatabase("up_restart");
  db = new Kysely<EntityDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool(database.config) }) });
  await migrateToLatest(db);
  vars = join(scratch, "vars.json");
  writeFileSync(
    vars,
    JSON.stringify({
      EntityFunction: {
        LOG_LEVEL: "WARN",
        DB_HOST: String(database.config.host),
        DB_PORT: Number(database.config.port),
        DB_NAME: database.name,
        DB_USER: String(database.config.user),
        DB_PASSWORD: String(database.config.password),
        DB_SSL: "disable",
      },
    }),
  );
});
afterAll(async () => {
  await db?.destroy();
});

/** Holds an exclusive lock on the entity table until released: the function's next query waits on it. */
async function lockEntityTable(): Promise<{ waiting: () => Promise<number>; release: () => Promise<void> }> {
  const holder = new pg.Client(database.config);
  await holder.connect();
  await holder.query("BEGIN");
  await holder.query("LOCK TABLE entity IN ACCESS EXCLUSIVE MODE");
  return {
    // Asked outside the holder's transaction: inside it, pg_stat_activity is a snapshot.
    waiting: async () => {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = ${database.name} AND wait_event_type = 'Lock'`.execute(db);
      return Number(rows[0]!.n);
    },
    release: async () => {
      await holder.query("ROLLBACK");
      await holder.end();
    },
  };
}

/** Starts `up`, publishes `key` while the entity table is locked, and stops `up` while that invocation hangs. */
async function stopWhileHung(
  env: Record<string, string>,
  key: string,
): Promise<{ exitCode: number | null; stopMs: number; output: string }> {
  // Hot reload on, as `up` runs by default: its build server must not hold the stop either.
  const up = startCli(["up", "--port", "0", "-t", template, "--env-vars", vars], env);
  await up.waitFor(/^ready:/m, 60_000).catch(async (error: unknown) => {
    await up.stop();
    throw error;
  });
  const lock = await lockEntityTable();
  try {
    expect((await runCli(["publish", key], env)).code).toBe(0);
    const deadline = Date.now() + 30_000;
    while ((await lock.waiting()) === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await lock.waiting()).toBeGreaterThan(0);
    const stopping = Date.now();
    const exitCode = await up.stop();
    return { exitCode, stopMs: Date.now() - stopping, output: up.output() };
  } finally {
    await lock.release();
    await up.stop();
  }
}

function queueCounts(env: Record<string, string>): Promise<Record<string, string>> {
  const state = JSON.parse(readFileSync(env.DEVRUNNER_UP_STATE!, "utf8")) as UpState;
  const client = localSqsClient(state.endpoint, state.region);
  return client
    .send(
      new GetQueueAttributesCommand({
        QueueUrl: state.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    )
    .then((answer) => answer.Attributes ?? {})
    .finally(() => client.destroy());
}

describe("stopping and restarting devrunner up", () => {
  it("stops on SIGINT without waiting for a hung invocation's Timeout, and delivers its message after a restart", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const stopped = await stopWhileHung(env, "RESTART_ENTITY_20220608T043249");
    expect(stopped.exitCode).toBe(0);
    console.log(`SIGINT -> exited: ${stopped.stopMs} ms (function Timeout 60 s)`);
    // The Timeout is 60 s: a stop that waited for it would take that long. The bound is generous for a
    // busy machine (the target, 2 s, is up's own: 1 s grace, then the environments are killed).
    expect(stopped.stopMs).toBeLessThan(15_000);
    expect(stopped.output).toMatch(/stopped 1 invocation\(s\) still running after 1 s; their 1 record\(s\)/);

    const again = startCli(["up", "--no-reload", "--port", "0", "-t", template, "--env-vars", vars], env);
    try {
      await again.waitFor(/^ready:/m, 60_000);
      expect(again.output()).toMatch(/1 message\(s\) kept from the last run \(1 were in flight/);
      // Delivered now, not after the queue's 180 s visibility timeout.
      await again.waitFor(/ok\s+\S+ sns: RESTART_ENTITY_20220608T043249/, 30_000);
      const row = await db
        .selectFrom("entity")
        .select(["latest_key"])
        .where("name", "=", "RESTART_ENTITY")
        .executeTakeFirst();
      expect(row?.latest_key).toBe("RESTART_ENTITY_20220608T043249");
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  it("starts with empty queues with --fresh", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const stopped = await stopWhileHung(env, "FRESH_ENTITY_20220608T043249");
    expect(stopped.exitCode).toBe(0);
    const fresh = startCli(
      ["up", "--no-reload", "--port", "0", "-t", template, "--env-vars", vars, "--fresh"],
      env,
    );
    try {
      await fresh.waitFor(/^ready:/m, 60_000);
      expect(fresh.output()).not.toMatch(/kept from the last run/);
      expect(await queueCounts(env)).toEqual({
        ApproximateNumberOfMessages: "0",
        ApproximateNumberOfMessagesNotVisible: "0",
      });
    } finally {
      expect(await fresh.stop()).toBe(0);
    }
  });
});
