import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { migrations } from "@entity/adapters";
import { readTemplate, templateFunction } from "./testing/template.ts";
import {
  createTestDatabase,
  startFakeSecretsManager,
  type TestDatabase,
  testKysely,
  testPgClient,
} from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATION_ENV_VARIABLES } from "./config.ts";

// MigrationFunction's contract with CloudFormation, through the artifact `sam build` makes, each request
// in a fresh process (an execution environment), answered with a PUT to a local stand-in for the
// pre-signed S3 URL, on Postgres 17.
const repoRoot = resolve(import.meta.dirname, "../../..");
const template = readTemplate(join(repoRoot, "template.yaml"));
const migrationFunction = templateFunction(template, "MigrationFunction");
const MIGRATOR_PASSWORD = "M1grat0r-pa55-never-in-a-reason-4d2b";
const APP_PASSWORD = "App-pa55-never-in-a-reason-8e1f";
const MIGRATOR_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:entity-db-migrator-AbCdEf";
const APP_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:entity-db-app-AbCdEf";
const MIGRATION_NAMES = Object.keys(migrations);
// Kysely's migration lock (its Postgres adapter's advisory lock id).
const KYSELY_MIGRATION_LOCK = "3853314791062309107";

let artifactsDir: string;
let database: TestDatabase;
let admin: Kysely<unknown>;
let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
let responses: Server;
let responseUrl: string;
const received: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
let requests = 0;

beforeAll(async () => {
  artifactsDir = mkdtempSync(join(tmpdir(), "sam-artifacts-"));
  // Exactly what `sam build` runs for this function (BuildMethod: makefile).
  await promisify(execFile)(
    "make",
    ["build-MigrationFunction", `ARTIFACTS_DIR=${artifactsDir}`, "BUILD_FLAGS=--quiet"],
    {
      cwd: repoRoot,
    },
  );
  database = await createTestDatabase("migfn");
  admin = testKysely<unknown>(database.config, { max: 2 });
  // The two roles exactly as the README sets them up: the migration role owns what it creates; the
  // function's role reads and writes the rows of what the migrations create, from the moment it exists.
  const migrator = `migrator_${database.name}`.slice(0, 60);
  const app = `app_${database.name}`.slice(0, 60);
  for (const statement of [
    `create role "${migrator}" login password '${MIGRATOR_PASSWORD}'`,
    `grant connect on database "${database.name}" to "${migrator}"`,
    `grant usage, create on schema public to "${migrator}"`,
    `create role "${app}" login password '${APP_PASSWORD}'`,
    `grant connect on database "${database.name}" to "${app}"`,
    `grant usage on schema public to "${app}"`,
    `revoke create on schema public from public`,
    `alter default privileges for role "${migrator}" in schema public grant select, insert, update on tables to "${app}"`,
    `alter default privileges for role "${migrator}" in schema public grant usage on sequences to "${app}"`,
  ])
    await sql.raw(statement).execute(admin);
  secrets = await startFakeSecretsManager({
    [MIGRATOR_SECRET]: JSON.stringify({ username: migrator, password: MIGRATOR_PASSWORD }),
    [APP_SECRET]: JSON.stringify({ username: app, password: APP_PASSWORD }),
  });
  responses = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    request.on("end", () => {
      received.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      response.end();
    });
  });
  await new Promise<void>((done) => responses.listen(0, "127.0.0.1", done));
  responseUrl = `http://127.0.0.1:${(responses.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await admin?.destroy();
  await secrets?.close();
  responses?.close();
});

function migrationEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    ENV: "dev",
    LOG_LEVEL: "INFO",
    DB_HOST: String(database.config.host),
    DB_PORT: String(database.config.port),
    DB_NAME: database.name,
    DB_USER: "placeholder",
    DB_SECRET_ARN: MIGRATOR_SECRET,
    DB_SSL: "disable",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ...overrides,
  };
}

type RequestType = "Create" | "Update" | "Delete";

interface Answer {
  /** The body CloudFormation would have received, parsed. */
  readonly response: Record<string, unknown> & { Data: Record<string, string> };
  readonly headers: IncomingHttpHeaders;
  readonly method: string;
  readonly path: string;
  readonly event: Record<string, unknown>;
  /** Everything the function printed (its logs). */
  readonly output: string;
}

/** One request, in a fresh execution environment of the built function, with `timeoutMs` to answer. */
async function send(
  requestType: RequestType,
  env: Record<string, string>,
  extra: { physicalResourceId?: string; timeoutMs?: number } = {},
): Promise<Answer> {
  requests += 1;
  const path = `/cloudformation-custom-resource-response/${requests}?X-Amz-Signature=abc`;
  const event = {
    RequestType: requestType,
    ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:MigrationFunction:live",
    ResponseURL: `${responseUrl}${path}`,
    StackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/entity-function-dev/1f2e3d4c",
    RequestId: `request-${requests}`,
    LogicalResourceId: "SchemaMigration",
    ResourceType: "Custom::SchemaMigration",
    ResourceProperties: { ServiceToken: "arn:...:live", CodeVersion: "arn:...:7" },
    ...(extra.physicalResourceId ? { PhysicalResourceId: extra.physicalResourceId } : {}),
    ...(requestType === "Update" ? { OldResourceProperties: { CodeVersion: "arn:...:6" } } : {}),
  };
  const [module, exportName] = migrationFunction.handler.split(".") as [string, string];
  const script = `
    const loaded = await import(${JSON.stringify(`file://${join(artifactsDir, `${module}.mjs`)}`)});
    const deadline = Date.now() + ${extra.timeoutMs ?? migrationFunction.timeoutSeconds * 1000};
    const context = { awsRequestId: "req", logStreamName: "2026/11/27/[$LATEST]abc", getRemainingTimeInMillis: () => deadline - Date.now() };
    try { console.log("RETURNED " + JSON.stringify(await loaded.${exportName}(${JSON.stringify(event)}, context))); }
    catch (error) { console.log("THROWN " + error.message); }
    process.exit(0);
  `;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    {
      env,
    },
  );
  const answer = received.find((entry) => entry.url === path);
  if (!answer)
    throw new Error(`no answer was PUT to the response URL; the function printed:\n${stdout}${stderr}`);
  return {
    response: JSON.parse(answer.body) as Answer["response"],
    headers: answer.headers,
    method: answer.method,
    path,
    event,
    output: stdout + stderr,
  };
}

const tables = async (): Promise<string[]> =>
  (
    await sql<{
      tablename: string;
    }>`select tablename from pg_tables where schemaname = 'public' order by 1`.execute(admin)
  ).rows.map((row) => row.tablename);

describe("MigrationFunction answers CloudFormation (Custom::SchemaMigration) on Postgres 17", () => {
  it("Create on an empty database applies every migration under the migration role and answers SUCCESS", async () => {
    const answer = await send("Create", migrationEnv());
    expect(answer.method).toBe("PUT");
    // The pre-signed URL's signature covers the content type: it must be empty.
    expect(answer.headers["content-type"]).toBe("");
    expect(Number(answer.headers["content-length"])).toBe(Buffer.byteLength(JSON.stringify(answer.response)));
    expect(answer.response).toEqual({
      Status: "SUCCESS",
      Reason: expect.stringMatching(
        new RegExp(
          `^applied ${MIGRATION_NAMES.length} migration\\(s\\) to postgres .*${MIGRATION_NAMES.at(-1)}`,
        ),
      ) as string,
      PhysicalResourceId: `schema-${database.name}`,
      StackId: answer.event.StackId,
      RequestId: answer.event.RequestId,
      LogicalResourceId: "SchemaMigration",
      Data: { Applied: MIGRATION_NAMES.join(","), Latest: MIGRATION_NAMES.at(-1) },
    });
    // The handler also returns what it sent (a local invoke prints it).
    expect(JSON.parse(/^RETURNED (.*)$/m.exec(answer.output)?.[1] ?? "null")).toEqual(answer.response);
    const owners = await sql<{ tableowner: string }>`
      select distinct tableowner from pg_tables where schemaname = 'public' and tablename = 'entity'`.execute(
      admin,
    );
    expect(owners.rows).toEqual([{ tableowner: `migrator_${database.name}`.slice(0, 60) }]);
  });

  it("Update when the schema is current answers SUCCESS without the migration lock, so a DML-only role can run it", async () => {
    // After the first deploy (README): the function only reads the migrator's bookkeeping.
    const app = `app_${database.name}`.slice(0, 60);
    await sql
      .raw(`revoke insert, update on kysely_migration, kysely_migration_lock from "${app}"`)
      .execute(admin);
    const privileges = await sql<{ privilege: string; granted: boolean }>`
      select t.table_name || ' ' || p.privilege as privilege,
             has_table_privilege(${app}, t.table_name, p.privilege) as granted
      from (values ('entity'), ('observation'), ('outbox'), ('kysely_migration')) as t(table_name)
      cross join (values ('select'), ('insert'), ('update'), ('delete')) as p(privilege)
      order by 1`.execute(admin);
    expect(privileges.rows.filter((row) => row.granted).map((row) => row.privilege)).toEqual([
      "entity insert",
      "entity select",
      "entity update",
      "kysely_migration select",
      "observation insert",
      "observation select",
      "observation update",
      "outbox insert",
      "outbox select",
      "outbox update",
    ]);
    const before = await sql`select name, timestamp from kysely_migration order by name`.execute(admin);
    // Another session holds the migration lock: taking it would hang until the function's time is up.
    const holder = await testPgClient(database.config);
    try {
      await holder.query(`select pg_advisory_lock(${KYSELY_MIGRATION_LOCK})`);
      const answer = await send("Update", migrationEnv({ DB_SECRET_ARN: APP_SECRET }), {
        physicalResourceId: `schema-${database.name}`,
        timeoutMs: 20_000,
      });
      expect(answer.response).toMatchObject({
        Status: "SUCCESS",
        Reason: expect.stringMatching(
          /is current \(\d+ migrations, the last .*\); nothing applied/,
        ) as string,
        PhysicalResourceId: `schema-${database.name}`,
        RequestId: answer.event.RequestId,
        Data: { Applied: "", Latest: MIGRATION_NAMES.at(-1) },
      });
    } finally {
      await holder.end();
    }
    expect(
      (await sql`select name, timestamp from kysely_migration order by name`.execute(admin)).rows,
    ).toEqual(before.rows);
  });

  it("Delete answers SUCCESS, echoes the resource id and drops nothing", async () => {
    const before = await tables();
    expect(before).toEqual(expect.arrayContaining(["entity", "observation", "outbox", "kysely_migration"]));
    const answer = await send("Delete", migrationEnv(), { physicalResourceId: `schema-${database.name}` });
    expect(answer.response).toMatchObject({
      Status: "SUCCESS",
      PhysicalResourceId: `schema-${database.name}`,
      LogicalResourceId: "SchemaMigration",
    });
    expect(await tables()).toEqual(before);
  });

  it("a failing migration answers FAILED with the migration's name and the database's error", async () => {
    const drifted = await createTestDatabase("migfn_drift");
    const db = testKysely<unknown>(drifted.config);
    try {
      // Someone created a table by hand: the first migration cannot create it.
      await sql`create table entity (name text)`.execute(db);
      const env = migrationEnv({
        DB_NAME: drifted.name,
        DB_SECRET_ARN: "",
        DB_USER: String(drifted.config.user),
        DB_PASSWORD: String(drifted.config.password),
      });
      const answer = await send("Create", env);
      expect(answer.response.Status).toBe("FAILED");
      expect(answer.response.Reason).toMatch(
        new RegExp(
          `^migration ${MIGRATION_NAMES[0]} failed: relation "entity" already exists \\(SQLSTATE 42P07\\)`,
        ),
      );
      expect(answer.response.Reason).toMatch(
        /nothing was applied\) \(log stream 2026\/11\/27\/\[\$LATEST\]abc\)$/,
      );
      expect(answer.response.PhysicalResourceId).toBe(`schema-${drifted.name}`);
      expect(answer.response.Reason).not.toContain(String(drifted.config.password));
      // One transaction: nothing of the failed run stayed.
      const left = await sql<{ n: number }>`select count(*)::int as n from kysely_migration`.execute(db);
      expect(left.rows[0]?.n).toBe(0);
    } finally {
      await db.destroy();
    }
  });

  it("an unreachable database or a wrong password answers FAILED, saying which, never with the password", async () => {
    const closed = createTcpServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const unreachable = await send("Create", migrationEnv({ DB_HOST: "127.0.0.1", DB_PORT: String(port) }));
    expect(unreachable.response).toMatchObject({
      Status: "FAILED",
      PhysicalResourceId: `schema-${database.name}`,
      Reason: expect.stringMatching(
        new RegExp(
          `^cannot read the migration status of postgres \\[user from DB_SECRET_ARN\\]@127\\.0\\.0\\.1:${port}/.*ECONNREFUSED`,
        ),
      ) as string,
    });

    const wrong = "Wr0ng-pa55-never-in-a-reason-1a7c";
    const refused = await send(
      "Create",
      migrationEnv({
        DB_SECRET_ARN: "",
        DB_USER: `migrator_${database.name}`.slice(0, 60),
        DB_PASSWORD: wrong,
      }),
    );
    expect(refused.response.Status).toBe("FAILED");
    expect(refused.response.Reason).toMatch(/password authentication failed .*\(SQLSTATE 28P01\)/);
    expect(refused.response.Reason).not.toContain(wrong);
    expect(refused.output).not.toContain(wrong);
  });

  it("a bad config variable answers FAILED naming it (the init does not crash); Delete still succeeds", async () => {
    const create = await send("Create", migrationEnv({ DB_PORT: "5x" }));
    expect(create.response).toMatchObject({
      Status: "FAILED",
      Reason: expect.stringMatching(
        /^the function's configuration is invalid: DB_PORT: port must be a whole number/,
      ) as string,
      PhysicalResourceId: "SchemaMigration-not-created",
      RequestId: create.event.RequestId,
    });
    const remove = await send("Delete", migrationEnv({ ENV: "" }), {
      physicalResourceId: "SchemaMigration-not-created",
    });
    expect(remove.response).toMatchObject({
      Status: "SUCCESS",
      Reason: expect.stringMatching(/^nothing to delete .*ENV: is not set/) as string,
      PhysicalResourceId: "SchemaMigration-not-created",
    });
  });

  it("answers FAILED before its own timeout when the database never answers", async () => {
    const silent = createTcpServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    try {
      const started = Date.now();
      const answer = await send(
        "Update",
        migrationEnv({
          DB_HOST: "127.0.0.1",
          DB_PORT: String((silent.address() as AddressInfo).port),
          DB_CONNECT_TIMEOUT_MS: "60000",
        }),
        { physicalResourceId: `schema-${database.name}`, timeoutMs: 2000 },
      );
      expect(answer.response).toMatchObject({
        Status: "FAILED",
        Reason: expect.stringMatching(/^did not finish within 2 s/) as string,
        PhysicalResourceId: `schema-${database.name}`,
      });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      silent.close();
    }
  });
});

describe("template.yaml: migrations are part of the deploy", () => {
  it("runs MigrationFunction as a custom resource that EntityFunction depends on, re-run on every code change", () => {
    expect(migrationFunction.handler).toBe("migrate.handler");
    expect(migrationFunction.properties).toMatchObject({
      CodeUri: templateFunction(template, "EntityFunction").codeUri,
      AutoPublishAlias: "live",
      VpcConfig: templateFunction(template, "EntityFunction").properties.VpcConfig,
    });
    expect(template.Resources.MigrationFunction?.Metadata).toEqual({ BuildMethod: "makefile" });
    expect(migrationFunction.timeoutSeconds).toBe(300);
    expect(template.Resources.SchemaMigration).toMatchObject({
      Type: "Custom::SchemaMigration",
      Properties: {
        ServiceToken: { Ref: "MigrationFunction.Alias" },
        CodeVersion: { Ref: "MigrationFunction.Version" },
      },
    });
    expect(Number(template.Resources.SchemaMigration?.Properties?.ServiceTimeout)).toBeGreaterThan(
      migrationFunction.timeoutSeconds,
    );
    expect(template.Resources.EntityFunction?.DependsOn).toBe("SchemaMigration");
  });

  it("gives MigrationFunction its own secret, and only read access to it; it declares every variable it reads", () => {
    expect(migrationFunction.environment.DB_SECRET_ARN).toEqual({ Ref: "MigrationDbSecretArn" });
    expect(migrationFunction.properties.Policies).toEqual([
      { AWSSecretsManagerGetSecretValuePolicy: { SecretArn: { Ref: "MigrationDbSecretArn" } } },
    ]);
    const declared = Object.keys(migrationFunction.environment);
    expect(MIGRATION_ENV_VARIABLES.filter((name) => !declared.includes(name))).toEqual([]);
  });
});
