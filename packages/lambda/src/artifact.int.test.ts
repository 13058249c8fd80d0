import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import type { Message } from "@aws-sdk/client-sqs";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters";
import { readTemplate, templateFunction } from "./testing/template.ts";
import {
  createTestDatabase,
  drainQueue,
  startTestFauxqs,
  type TestDatabase,
  type TestSqsEmulator,
  testKysely,
} from "@entity/adapters/testing";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { unzipSync } from "fflate";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAMBDA_ENV_VARIABLES } from "./config.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const template = readTemplate(join(repoRoot, "template.yaml"));
const entityFunction = templateFunction(template, "EntityFunction");
type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

let artifactsDir: string;
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let emulator: TestSqsEmulator;
let outboundUrl: string;
let dlqUrl: string;
let imports = 0;

function functionEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ENV: "dev",
    LOG_LEVEL: "WARN",
    DB_HOST: String(database.config.host),
    DB_PORT: String(database.config.port),
    DB_NAME: String(database.config.database),
    DB_USER: String(database.config.user),
    DB_PASSWORD: String(database.config.password),
    OUTBOUND_QUEUE_URL: outboundUrl,
    DLQ_URL: dlqUrl,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    ...overrides,
  };
}

const originalEnv = { ...process.env };

/**
 * Imports a fresh copy of the built artifact with this environment, as a new execution environment
 * would. The environment stays set: the SDK clients read it on first use, as they do in Lambda.
 */
async function importHandler(env: Record<string, string>): Promise<Handler> {
  process.env = { ...originalEnv, ...env };
  const [module, exportName] = entityFunction.handler.split(".") as [string, string];
  imports += 1;
  const loaded = (await import(`${join(artifactsDir, `${module}.mjs`)}?copy=${imports}`)) as Record<
    string,
    Handler
  >;
  return loaded[exportName]!;
}

function context(): Context {
  const deadline = Date.now() + entityFunction.timeoutSeconds * 1000;
  return {
    awsRequestId: `req-${Date.now()}`,
    functionName: "EntityFunction",
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

function sampleEvent(name: string): SQSEvent {
  return JSON.parse(readFileSync(join(repoRoot, "events", name), "utf8")) as SQSEvent;
}

const drain = (queueUrl: string): Promise<Message[]> => drainQueue(emulator.client, queueUrl);

beforeAll(async () => {
  artifactsDir = mkdtempSync(join(tmpdir(), "sam-artifacts-"));
  // Exactly what `sam build` runs for BuildMethod: makefile.
  const { stdout } = await promisify(execFile)(
    "make",
    ["build-EntityFunction", `ARTIFACTS_DIR=${artifactsDir}`],
    { cwd: repoRoot },
  );
  console.log(stdout.trim());
  database = await createTestDatabase("lambda");
  db = testKysely<EntityDatabase>(database.config);
  emulator = await startTestFauxqs();
  outboundUrl = emulator.server.createQueue("outbound-events").queueUrl;
  dlqUrl = emulator.server.createQueue("entity-dlq").queueUrl;
}, 120_000);

afterAll(async () => {
  process.env = originalEnv;
  await db?.destroy();
  await emulator?.server.stop();
});

describe("the built EntityFunction artifact", () => {
  it("holds the module the template's Handler names, with a sourcemap", () => {
    expect(entityFunction.handler).toBe("index.handler");
    expect(entityFunction.runtime).toBe("nodejs24.x");
    const files = readdirSync(artifactsDir);
    // One entry per handler in the template (index: EntityFunction, relay: OutboxRelayFunction,
    // migrate: MigrationFunction) and the chunks they share.
    expect(files).toEqual(
      expect.arrayContaining([
        "index.mjs",
        "index.mjs.map",
        "relay.mjs",
        "relay.mjs.map",
        "migrate.mjs",
        "migrate.mjs.map",
      ]),
    );
    expect(
      files.filter((name) => !/^(index|relay|migrate|chunk-[A-Z0-9]+)\.mjs(\.map)?$/.test(name)),
    ).toEqual([]);
  });

  it("refuses to work on a database whose schema is behind, naming the missing migration", async () => {
    const handler = await importHandler(functionEnv());
    await expect(handler(sampleEvent("my_test_entity_a1.json"), context())).rejects.toThrow(
      /missing migration\(s\) 2026_11_27_0001_entities_observations_outbox/,
    );
  });

  it("processes the sample events against Postgres and publishes to the outbound queue", async () => {
    await migrateToLatest(db);
    const handler = await importHandler(functionEnv());
    for (const name of ["my_test_entity_a1.json", "sqs_json_body.json", "sns_wrapped.json", "fifo.json"]) {
      expect(await handler(sampleEvent(name), context())).toEqual({ batchItemFailures: [] });
    }
    const entities = await db
      .selectFrom("entity")
      .select(["name", "latest_key", "observation_count"])
      .orderBy("name")
      .execute();
    expect(entities).toEqual([
      { name: "FIFO_ENTITY_A", latest_key: "FIFO_ENTITY_A_20220609T043249", observation_count: 2 },
      { name: "FIFO_ENTITY_B", latest_key: "FIFO_ENTITY_B_20220608T043249", observation_count: 1 },
      {
        name: "MY_CRYPTIC_ENTITY_XXX_YYY",
        latest_key: "MY_CRYPTIC_ENTITY_XXX_YYY_20220610T120000",
        observation_count: 3,
      },
      { name: "OTHER_ENTITY_A1", latest_key: "OTHER_ENTITY_A1_20220608T043249", observation_count: 1 },
      { name: "SNS_JSON_ENTITY", latest_key: "SNS_JSON_ENTITY_20220608T043249", observation_count: 1 },
    ]);
    const outbound = await drain(outboundUrl);
    expect(outbound).toHaveLength(8);
    expect(outbound.map((m) => m.MessageAttributes?.eventType?.StringValue).sort()).toEqual([
      ...Array<string>(5).fill("entity.created"),
      ...Array<string>(3).fill("entity.updated"),
    ]);
    const pending = await sql<{
      n: number;
    }>`select count(*)::int as n from outbox where published_at is null`.execute(db);
    expect(pending.rows[0]?.n).toBe(0);

    // Redelivery of the same event: duplicates, nothing new published.
    expect(await handler(sampleEvent("my_test_entity_a1.json"), context())).toEqual({
      batchItemFailures: [],
    });
    expect(await drain(outboundUrl)).toEqual([]);
  });

  it("moves invalid keys and undecodable bodies to the DLQ with the reason, and acknowledges them", async () => {
    const handler = await importHandler(functionEnv());
    const event = sampleEvent("invalid_key.json");
    expect(await handler(event, context())).toEqual({ batchItemFailures: [] });
    const dead = await drain(dlqUrl);
    expect(
      dead
        .map((m) => ({
          body: m.Body,
          code: m.MessageAttributes?.failureCode?.StringValue,
          original: m.MessageAttributes?.originalMessageId?.StringValue,
          reason: m.MessageAttributes?.failureReason?.StringValue,
        }))
        .sort((a, b) => String(a.code).localeCompare(String(b.code))),
    ).toEqual([
      {
        body: event.Records[0]!.body,
        code: "INVALID_MONTH",
        original: event.Records[0]!.messageId,
        reason: expect.stringMatching(/month 13/) as string,
      },
      {
        body: "{not json",
        code: "MALFORMED_JSON",
        original: event.Records[1]!.messageId,
        reason: expect.stringMatching(/does not parse/) as string,
      },
    ]);
  });

  it("ships as a zip that unzips to the same files and runs from them", async () => {
    const zipDir = mkdtempSync(join(tmpdir(), "zipped-"));
    const zipPath = join(zipDir, "entity-function.zip");
    await promisify(execFile)(process.execPath, [
      join(repoRoot, "packages/lambda/scripts/build.ts"),
      "--outdir",
      join(zipDir, "built"),
      "--zip",
      zipPath,
      "--quiet",
    ]);
    const unzipped = unzipSync(readFileSync(zipPath));
    expect(Object.keys(unzipped).sort()).toEqual(readdirSync(join(zipDir, "built")).sort());
    const taskRoot = join(zipDir, "unzipped");
    mkdirSync(taskRoot);
    for (const [name, bytes] of Object.entries(unzipped)) writeFileSync(join(taskRoot, name), bytes);
    await migrateToLatest(db);
    process.env = { ...originalEnv, ...functionEnv() };
    const { handler } = (await import(join(taskRoot, "index.mjs"))) as { handler: Handler };
    const event = sampleEvent("my_test_entity_a1.json");
    expect(await handler(event, context())).toEqual({ batchItemFailures: [] });
    const stored = await db
      .selectFrom("observation")
      .select("key")
      .where("message_id", "=", event.Records[0]!.messageId)
      .execute();
    expect(stored).toHaveLength(1);
  });

  it("fails its init, naming the variable, when the environment is wrong", async () => {
    await expect(importHandler(functionEnv({ DB_PORT: "5x" }))).rejects.toThrow(
      /^DB_PORT: port must be a whole number/,
    );
    await expect(importHandler(functionEnv({ DLQ_URL: "" }))).rejects.toThrow(/^DLQ_URL: is not set/);
  });
});

describe("template.yaml", () => {
  it("declares every variable the function's config reads (SAM drops undeclared ones)", () => {
    const declared = Object.keys(entityFunction.environment);
    expect(LAMBDA_ENV_VARIABLES.filter((name) => !declared.includes(name))).toEqual([]);
  });

  it("wires SNS -> SQS (with a DLQ) -> EntityFunction with partial batch responses", () => {
    const queue = template.Resources.EntityQueue?.Properties ?? {};
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * entityFunction.timeoutSeconds);
    expect(queue.RedrivePolicy).toMatchObject({
      deadLetterTargetArn: { "Fn::GetAtt": ["EntityDeadLetterQueue", "Arn"] },
    });
    expect(template.Resources.EntitySubscription?.Properties).toMatchObject({
      Protocol: "sqs",
      TopicArn: { Ref: "EntityTopic" },
    });
    const events = entityFunction.properties.Events as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    expect(events.EntityQueueEvent).toMatchObject({
      Type: "SQS",
      Properties: {
        Queue: { "Fn::GetAtt": ["EntityQueue", "Arn"] },
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: { Ref: "MaximumConcurrency" } },
      },
    });
    expect(entityFunction.properties.Architectures).toEqual(["arm64"]);
    expect(template.Resources.EntityFunction?.Metadata).toEqual({ BuildMethod: "makefile" });
  });

  it("grants only what the function uses: send to the outbound queue and the DLQ, read its one secret", () => {
    expect(entityFunction.properties.Policies).toEqual([
      { SQSSendMessagePolicy: { QueueName: { "Fn::GetAtt": ["OutboundEventsQueue", "QueueName"] } } },
      { SQSSendMessagePolicy: { QueueName: { "Fn::GetAtt": ["EntityDeadLetterQueue", "QueueName"] } } },
      { AWSSecretsManagerGetSecretValuePolicy: { SecretArn: { Ref: "DbSecretArn" } } },
    ]);
  });
});
