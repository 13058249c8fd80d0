import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EntityDatabase } from "@entity/adapters";
import { migrations } from "@entity/adapters/postgres";
import { migratedTestDatabase, startPortForward, type TestDatabase } from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTemplateWithTimeout } from "./soak/template-timeout.ts";
import { isolatedEnv, runCli, startCli } from "./testing/cli.ts";

const scratch = mkdtempSync(join(tmpdir(), "up-"));
const buildDir = join(scratch, "build");
let database: TestDatabase;
let db: Kysely<EntityDatabase>;

beforeAll(async () => {
  ({ database, db } = await migratedTestDatabase("up"));
});
afterAll(async () => {
  await db?.destroy();
});

function envVars(name: string, variables: Record<string, string | number>): string {
  const path = join(scratch, `${name}.json`);
  writeFileSync(path, JSON.stringify({ EntityFunction: { LOG_LEVEL: "WARN", ...variables } }));
  return path;
}

// Failed records come back after 3 s: a visibility timeout that short needs a function Timeout as short.
const projectTemplate = join(import.meta.dirname, "../../../template.yaml");
const quickRetryTemplate = join(scratch, "template-quick-retry.yaml");
writeTemplateWithTimeout(projectTemplate, quickRetryTemplate, "EntityFunction", 3);

const UP_ARGS = [
  "up",
  "--no-reload",
  "--port",
  "0",
  "-t",
  quickRetryTemplate,
  "--visibility-timeout",
  "3",
  "--parameter-overrides",
  "MaximumConcurrency=2",
];

describe("devrunner up + publish: the SNS -> SQS -> Lambda flow in one process", () => {
  it("delivers a published key through SNS and SQS to the function, into the database", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const vars = envVars("postgres", {
      DB_HOST: String(database.config.host),
      DB_PORT: Number(database.config.port),
      DB_NAME: database.name,
      DB_USER: String(database.config.user),
      DB_PASSWORD: String(database.config.password),
      DB_SSL: "disable",
    });
    const up = startCli([...UP_ARGS, "--env-vars", vars], env);
    try {
      await up.waitFor(/^ready:/m, 60_000);
      const started = Date.now();
      const published = await runCli(["publish", "UP_ENTITY_20220608T043249"], env);
      expect(published.stdout).toMatch(/^published [0-9a-f-]+ UP_ENTITY_20220608T043249/);
      await up.waitFor(/batch of 1 -> 1 ok, 0 failed[\s\S]*ok\s+\S+ sns: UP_ENTITY_20220608T043249/);
      const row = await db
        .selectFrom("entity")
        .select(["latest_key"])
        .where("name", "=", "UP_ENTITY")
        .executeTakeFirst();
      expect(row?.latest_key).toBe("UP_ENTITY_20220608T043249");
      console.log(`publish -> committed: ${Date.now() - started} ms`);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });

  it("sends a poison key to the DLQ after maxReceiveCount, and dlq --redrive sends it back", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    // The function cannot set the invalid key aside (its DLQ_URL goes nowhere), so it reports it failed;
    // SQS redelivers it until the redrive policy (maxReceiveCount 5) moves it to the DLQ.
    const vars = envVars("poison", { DLQ_URL: "http://127.0.0.1:9/000000000000/nowhere" });
    const up = startCli([...UP_ARGS, "--env-vars", vars], env);
    try {
      await up.waitFor(/^ready:/m, 60_000);
      // Its fresh embedded database was migrated by the template's MigrationFunction before the first batch.
      expect(up.output()).toMatch(
        new RegExp(
          `SchemaMigration \\(Custom::SchemaMigration, by MigrationFunction\\): SUCCESS in \\d+ ms: applied ${Object.keys(migrations).length} migration\\(s\\)`,
        ),
      );
      await runCli(["publish", "poison_key", "GOOD_NEIGHBOUR_20220608T043249"], env);
      await up.waitFor(/failed \(receive 5: goes to the DLQ\)/, 30_000);
      expect(up.output()).toMatch(
        /failed \(receive 1: retried after the visibility timeout\) \S+ sns: poison_key/,
      );
      let listed = await runCli(["dlq", "--json"], env);
      for (
        let i = 0;
        i < 20 && (JSON.parse(listed.stdout) as { messages: unknown[] }).messages.length === 0;
        i += 1
      ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        listed = await runCli(["dlq", "--json"], env);
      }
      const dead = JSON.parse(listed.stdout) as { messages: { body: string; receiveCount: number }[] };
      expect(dead.messages).toHaveLength(1);
      expect(JSON.parse(dead.messages[0]!.body)).toMatchObject({
        Type: "Notification",
        Message: "poison_key",
      });
      // Listing only looks: a second look shows the same receive count.
      const again = JSON.parse((await runCli(["dlq", "--json"], env)).stdout) as typeof dead;
      expect(again.messages.map((message) => message.receiveCount)).toEqual([dead.messages[0]!.receiveCount]);
      expect(dead.messages[0]!.receiveCount).toBeGreaterThanOrEqual(5);
      const redriven = await runCli(["dlq", "--redrive"], env);
      expect(redriven.stdout).toMatch(/redrove 1 message\(s\)/);
      await up.waitFor(
        /failed \(receive 1: retried[^\n]*poison_key[\s\S]*failed \(receive 1: retried[^\n]*poison_key/,
        15_000,
      );
    } finally {
      await up.stop();
    }
  });

  it("prints a record the function dead-lettered itself as dead, with its reason code", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const up = startCli(UP_ARGS, env);
    try {
      await up.waitFor(/^ready:/m, 60_000);
      await runCli(["publish", "poison_key"], env);
      await up.waitFor(/^batch of 1 -> 0 ok, 0 failed, 1 dead-lettered/m, 30_000);
      expect(up.output()).toMatch(/^ {2}dead {3}\S+ sns: poison_key {2}LOWERCASE_LETTER -> DLQ$/m);
      const listed = await runCli(["dlq"], env);
      expect(listed.stdout).toMatch(/receives=0 {2}LOWERCASE_LETTER: /);
    } finally {
      await up.stop();
    }
  });

  it("retries a record that failed on a database outage and succeeds on redelivery", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    let tunnel = await startPortForward(String(database.config.host), Number(database.config.port));
    const port = tunnel.port;
    const vars = envVars("flaky", {
      DB_HOST: "127.0.0.1",
      DB_PORT: port,
      DB_NAME: database.name,
      DB_USER: String(database.config.user),
      DB_PASSWORD: String(database.config.password),
      DB_SSL: "disable",
      DB_CONNECT_TIMEOUT_MS: 1000,
    });
    const up = startCli([...UP_ARGS, "--env-vars", vars], env);
    try {
      await up.waitFor(/^ready:/m, 60_000);
      await tunnel.close();
      await runCli(["publish", "FLAKY_ENTITY_20220608T043249"], env);
      await up.waitFor(/batch of 1 -> 0 ok, 1 failed/, 30_000);
      tunnel = await startPortForward(String(database.config.host), Number(database.config.port), {
        listenPort: port,
      });
      await up.waitFor(/ok\s+\S+ sns: FLAKY_ENTITY_20220608T043249/, 30_000);
      const row = await db
        .selectFrom("entity")
        .select(["observation_count"])
        .where("name", "=", "FLAKY_ENTITY")
        .executeTakeFirst();
      expect(row?.observation_count).toBe(1);
    } finally {
      await up.stop();
      await tunnel.close();
    }
  });

  it("refuses a visibility timeout below the function's Timeout, as AWS refuses the event source", async () => {
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const refused = await runCli(
      ["up", "--port", "0", "-t", projectTemplate, "--visibility-timeout", "29"],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /visibility timeout of EntityQueue \(29 s, from the override \(up --visibility-timeout\)\) is below EntityFunction's Timeout \(30 s\)/,
    );
    expect(refused.stdout).not.toMatch(/local cloud up/);

    // The template's own VisibilityTimeout (180 s) below a longer Timeout is refused too.
    const longTimeout = join(scratch, "template-long-timeout.yaml");
    writeTemplateWithTimeout(projectTemplate, longTimeout, "EntityFunction", 300);
    const fromTemplate = await runCli(["up", "--port", "0", "-t", longTimeout], env);
    expect(fromTemplate.code).toBe(2);
    expect(fromTemplate.stderr).toMatch(
      /visibility timeout of EntityQueue \(180 s, from EntityQueue's VisibilityTimeout in the template\) is below EntityFunction's Timeout \(300 s\)/,
    );
  });

  it("says clearly, exit 2, when the emulator's port is in use", async () => {
    const taken = createServer();
    await new Promise<void>((listening) => taken.listen(0, "0.0.0.0", listening));
    const port = String((taken.address() as AddressInfo).port);
    try {
      const result = await runCli(
        ["up", "--port", port, "-t", projectTemplate],
        isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir }),
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        new RegExp(`devrunner: the emulator's port ${port} is in use .*: pick another --port`),
      );
      expect(result.stderr).not.toMatch(/EADDRINUSE|Error:/);
    } finally {
      taken.close();
    }
  });

  it("publish names the keys sent and not sent when a send fails part-way", async () => {
    const env = isolatedEnv();
    // A "running" cloud whose endpoint refuses connections: the first send fails.
    writeFileSync(
      env.DEVRUNNER_UP_STATE!,
      JSON.stringify({
        pid: process.pid,
        endpoint: "http://127.0.0.1:9",
        region: "us-east-1",
        topicArn: "arn:aws:sns:us-east-1:000000000000:t",
        queueUrl: "http://127.0.0.1:9/q",
      }),
    );
    const result = await runCli(["publish", "K1_20220101T000000", "K2_20220101T000000"], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/publish: sending key 1 \('K1_20220101T000000'\) failed: /);
    expect(result.stderr).toMatch(/\nsent: \(none\)\nnot sent: K1_20220101T000000 K2_20220101T000000\n/);
  });

  it("publish says clearly when no local cloud is running", async () => {
    const result = await runCli(["publish", "X_20220101T000000"], isolatedEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no local cloud is running: start `pnpm devrunner up`/);
  });
});
