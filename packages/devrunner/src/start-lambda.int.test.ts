import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import type { EntityDatabase } from "@entity/adapters";
import { createTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "./local-aws/flow.ts";
import { isolatedEnv, startCli } from "./testing/cli.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "start-lambda-"));
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let api: ReturnType<typeof startCli>;
let lambda: LambdaClient;

/** The sample SQS event with another key. */
function sqsEvent(key: string): Uint8Array {
  const sample = readFileSync(join(repoRoot, "events/my_test_entity_a1.json"), "utf8");
  return new TextEncoder().encode(sample.replace("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249", key));
}

function payloadOf(bytes: Uint8Array | undefined): unknown {
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function latestKey(name: string): Promise<string | undefined> {
  const row = await db.selectFrom("entity").select("latest_key").where("name", "=", name).executeTakeFirst();
  return row?.latest_key;
}

beforeAll(async () => {
  database = await createTestDatabase("start_lambda");
  db = new Kysely<EntityDatabase>({ dialect: new PostgresDialect({ pool: new pg.Pool(database.config) }) });
  const envVars = join(scratch, "env-vars.json");
  writeFileSync(
    envVars,
    JSON.stringify({
      Parameters: { LOG_LEVEL: "WARN" },
      EntityFunction: {
        DB_HOST: database.config.host,
        DB_PORT: database.config.port,
        DB_NAME: database.name,
        DB_USER: database.config.user,
        DB_PASSWORD: database.config.password,
        DB_SSL: "disable",
      },
    }),
  );
  api = startCli(["start-lambda", "--port", "0", "--env-vars", envVars], isolatedEnv());
  await api.waitFor(/^ready:/m, 90_000);
  const endpoint = /Lambda Invoke API on (http:\/\/127\.0\.0\.1:\d+)/.exec(api.output())![1]!;
  lambda = new LambdaClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
}, 120_000);
afterAll(async () => {
  lambda?.destroy();
  if (api) expect(await api.stop()).toBe(0);
  await db?.destroy();
});

describe("devrunner start-lambda (sam local start-lambda): the Lambda Invoke API for LambdaClient", () => {
  it("RequestResponse: the function's response, its log tail, and its work in the database", async () => {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: "EntityFunction",
        Payload: sqsEvent("SYNC_ENTITY_20220608T043249"),
        LogType: "Tail",
      }),
    );
    expect(answer.StatusCode).toBe(200);
    expect(answer.FunctionError).toBeUndefined();
    expect(answer.ExecutedVersion).toBe("$LATEST");
    expect(payloadOf(answer.Payload)).toEqual({ batchItemFailures: [] });
    expect(Buffer.from(answer.LogResult ?? "", "base64").toString()).toMatch(
      /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms/,
    );
    expect(await latestKey("SYNC_ENTITY")).toBe("SYNC_ENTITY_20220608T043249");
    // The next invocation finds the environment warm: no init in its REPORT.
    const again = await lambda.send(
      new InvokeCommand({
        FunctionName: "EntityFunction",
        Payload: sqsEvent("SYNC_ENTITY_20220609T043249"),
        LogType: "Tail",
      }),
    );
    const report = Buffer.from(again.LogResult ?? "", "base64").toString();
    expect(report).toMatch(/REPORT RequestId: /);
    expect(report).not.toMatch(/Init Duration/);
  });

  it("Event: 202 at once, then the function runs on a warm environment", async () => {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: "EntityFunction",
        InvocationType: "Event",
        Payload: sqsEvent("ASYNC_ENTITY_20220608T043249"),
      }),
    );
    expect(answer.StatusCode).toBe(202);
    expect(await waitUntil(async () => (await latestKey("ASYNC_ENTITY")) !== undefined, 30_000)).toBe(true);
    await api.waitFor(/^EntityFunction Event: ok /m);
  });

  it("answers errors as Lambda does: X-Amz-Function-Error for the function's, 404 for an unknown function", async () => {
    // MigrationFunction is served too (every function of the template, by logical id, or by its ARN).
    const failed = await lambda.send(
      new InvokeCommand({
        FunctionName: "arn:aws:lambda:us-east-1:123456789012:function:MigrationFunction",
        Payload: new TextEncoder().encode("{}"),
      }),
    );
    expect(failed.StatusCode).toBe(200);
    expect(failed.FunctionError).toBe("Unhandled");
    expect(payloadOf(failed.Payload)).toMatchObject({
      errorType: "Error",
      errorMessage: expect.stringMatching(/^not a CloudFormation custom-resource event/) as unknown,
    });

    const missing = lambda.send(new InvokeCommand({ FunctionName: "NoSuchFunction" }));
    await expect(missing).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(missing).rejects.toMatchObject({
      message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:NoSuchFunction",
      $metadata: { httpStatusCode: 404 },
    });
  });
});
