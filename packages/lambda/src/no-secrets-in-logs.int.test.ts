import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters";
import {
  createTestDatabase,
  startFakeSecretsManager,
  startTestFauxqs,
  type TestDatabase,
  type TestSqsEmulator,
  testKysely,
} from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The function runs as a least-privilege role (DML on its own tables, no DDL) whose password lives in a
// Secrets Manager secret; at DEBUG level, through success and failure, no log line may hold a secret.
const SECRET_PASSWORD = "Pa55-w0rd-that-must-never-be-logged-7f3a";
const WRONG_PASSWORD = "Wr0ng-pa55-that-must-never-be-logged-9c1e";
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:entity-db-AbCdEf";
const BROKEN_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:entity-db-broken";
const repoRoot = resolve(import.meta.dirname, "../../..");

let bundle: string;
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let emulator: TestSqsEmulator;
let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let outboundUrl: string;
let dlqUrl: string;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "bundle-"));
  await promisify(execFile)(process.execPath, [
    join(repoRoot, "packages/lambda/scripts/build.ts"),
    "--outdir",
    outdir,
    "--no-zip",
    "--quiet",
  ]);
  bundle = join(outdir, "index.mjs");
  database = await createTestDatabase("secrets");
  db = testKysely<EntityDatabase>(database.config);
  await migrateToLatest(db);
  // The function's own role: reads and writes rows, reads the migration table, creates nothing.
  const role = `entity_app_${database.name}`.slice(0, 60);
  await sql.raw(`create role "${role}" login password '${SECRET_PASSWORD}'`).execute(db);
  await sql.raw(`grant connect on database "${database.name}" to "${role}"`).execute(db);
  await sql.raw(`grant select, insert, update on entity, observation, outbox to "${role}"`).execute(db);
  await sql.raw(`grant select on kysely_migration, kysely_migration_lock to "${role}"`).execute(db);
  await sql.raw(`grant usage on all sequences in schema public to "${role}"`).execute(db);
  await sql.raw(`revoke create on schema public from public`).execute(db);
  secrets = await startFakeSecretsManager({
    [SECRET_ARN]: JSON.stringify({ username: role, password: SECRET_PASSWORD, engine: "postgres" }),
    // Not JSON, and the password is inside: the error must not echo the secret string.
    [BROKEN_SECRET_ARN]: `password=${SECRET_PASSWORD}`,
  });
  emulator = await startTestFauxqs();
  outboundUrl = emulator.server.createQueue("outbound").queueUrl;
  dlqUrl = emulator.server.createQueue("dlq").queueUrl;
}, 120_000);

afterAll(async () => {
  await db?.destroy();
  await secrets?.close();
  await emulator?.server.stop();
});

/** Runs the bundle in its own process (like a Lambda execution environment) and returns everything it printed. */
async function invokeInProcess(env: Record<string, string>): Promise<{ output: string; response: string }> {
  const event = {
    Records: [
      { messageId: "m-valid", body: "SECRETIVE_ENTITY_20220608T043249", attributes: {} },
      { messageId: "m-invalid", body: "secretive_entity", attributes: {} },
      { messageId: "m-dup", body: "SECRETIVE_ENTITY_20220608T043249", attributes: {} },
    ],
  };
  const script = `
    const { handler } = await import(${JSON.stringify(`file://${bundle}`)});
    const context = { awsRequestId: "req-secrets", functionName: "EntityFunction", getRemainingTimeInMillis: () => 20000 };
    try { console.log("RESPONSE " + JSON.stringify(await handler(${JSON.stringify(event)}, context))); }
    catch (error) { console.log("THROWN " + error.name + ": " + error.message); }
    process.exit(0);
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    {
      env: {
        PATH: process.env.PATH ?? "",
        ENV: "dev",
        LOG_LEVEL: "DEBUG",
        DB_HOST: String(database.config.host),
        DB_PORT: String(database.config.port),
        DB_NAME: database.name,
        DB_USER: "placeholder",
        OUTBOUND_QUEUE_URL: outboundUrl,
        DLQ_URL: dlqUrl,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test-secret-access-key-never-logged",
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        ...env,
      },
    },
  );
  const output = stdout + stderr;
  return { output, response: /^(RESPONSE|THROWN) .*$/m.exec(output)?.[0] ?? "" };
}

describe("secrets in logs", () => {
  it("never logs the password fetched from DB_SECRET_ARN, and works under the least-privilege role", async () => {
    const { output, response } = await invokeInProcess({ DB_SECRET_ARN: SECRET_ARN });
    expect(response).toBe('RESPONSE {"batchItemFailures":[]}');
    expect(output).toContain('"function_request_id":"req-secrets"');
    expect(output).toContain('"messageId":"m-invalid"');
    expect(output).not.toContain(SECRET_PASSWORD);
    expect(output).not.toContain("test-secret-access-key-never-logged");
    const rows = await db.selectFrom("entity").select("name").execute();
    expect(rows.map((row) => row.name)).toContain("SECRETIVE_ENTITY");
    expect(secrets.requests()).toBe(1);
  });

  it("never logs DB_PASSWORD, even when the database refuses it", async () => {
    const { output, response } = await invokeInProcess({
      DB_USER: "postgres_nobody",
      DB_PASSWORD: WRONG_PASSWORD,
    });
    expect(response).toMatch(/^(RESPONSE|THROWN) /);
    expect(output).toMatch(/password authentication failed|does not exist/);
    expect(output).not.toContain(WRONG_PASSWORD);
  });

  it("never echoes a malformed secret's contents", async () => {
    const { output, response } = await invokeInProcess({ DB_SECRET_ARN: BROKEN_SECRET_ARN });
    expect(response).toMatch(/^THROWN /);
    expect(output).toContain("is unusable: its SecretString is not JSON");
    expect(output).not.toContain(SECRET_PASSWORD);
  });
});
