import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { migrations, type EntityDatabase } from "@entity/adapters";
import {
  createTestDatabase,
  migratedTestDatabase,
  testPgClient,
  type TestDatabase,
} from "@entity/adapters/testing";
import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

// doctor against the run's Postgres 17: a least-privilege role passes, the owner (a superuser) fails on
// its DDL rights, a database behind on migrations fails, and a template whose concurrency cannot fit
// fails the connection budget.
const repoRoot = resolve(import.meta.dirname, "../../..");
const MIGRATIONS = Object.keys(migrations);
const scratch = mkdtempSync(join(tmpdir(), "doctor-"));
const APP_PASSWORD = "doctor-app-password";
let database: TestDatabase;
let owner: Kysely<EntityDatabase>;
let role: string;

interface Report {
  target: string;
  checks: { name: string; verdict: string; summary: string; details?: Record<string, unknown> }[];
  failed: number;
}

function writeEnvFile(name: string, variables: Record<string, string | number | undefined>): string {
  const path = join(scratch, name);
  writeFileSync(
    path,
    Object.entries(variables)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${String(value)}\n`)
      .join(""),
  );
  return path;
}

function ownerEnv(databaseName: string): string {
  return writeEnvFile(`owner-${databaseName}.env`, {
    DB_HOST: database.config.host,
    DB_PORT: database.config.port,
    DB_NAME: databaseName,
    DB_USER: database.config.user,
    DB_PASSWORD: String(database.config.password),
    DB_SSL: "disable",
  });
}

const lines = (stdout: string): Record<string, string> =>
  Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .filter((line) => !line.startsWith("doctor:"))
      .map((line) => [line.slice(6, 15).trim(), line]),
  );

beforeAll(async () => {
  ({ database, db: owner } = await migratedTestDatabase("doctor", { max: 1 }));
  // The README's grants for the function's role.
  role = `entity_app_${database.name}`.slice(0, 60);
  await sql.raw(`create role "${role}" login password '${APP_PASSWORD}'`).execute(owner);
  await sql.raw(`grant connect on database "${database.name}" to "${role}"`).execute(owner);
  await sql.raw(`grant select, insert, update on entity, observation, outbox to "${role}"`).execute(owner);
  await sql.raw(`grant select on kysely_migration, kysely_migration_lock to "${role}"`).execute(owner);
  await sql.raw(`grant usage on all sequences in schema public to "${role}"`).execute(owner);
  await sql.raw(`revoke create on schema public from public`).execute(owner);
});
afterAll(async () => {
  await owner?.destroy();
});

describe("devrunner doctor against Postgres 17", () => {
  it("passes a least-privilege role given in an env-vars file, TLS off on localhost being a warning", async () => {
    const envVars = join(scratch, "app.json");
    writeFileSync(
      envVars,
      JSON.stringify({
        EntityFunction: {
          ENV: "dev",
          DB_HOST: database.config.host,
          DB_PORT: database.config.port,
          DB_NAME: database.name,
          DB_USER: role,
          DB_PASSWORD: APP_PASSWORD,
          DB_SSL: "disable",
        },
      }),
    );
    const result = await runCli(["doctor", "-n", envVars], isolatedEnv());
    expect(result.code, result.stderr).toBe(0);
    const checks = lines(result.stdout);
    expect(checks.database).toMatch(
      new RegExp(
        `^ok +database +PostgreSQL 17\\.\\d+ at ${String(database.config.host)}:${String(database.config.port)}/${database.name} answers as ${role}: round trip [\\d.]+ ms`,
      ),
    );
    expect(checks.tls).toMatch(/^warn +tls +DB_SSL=disable on a local address \(localhost\)/);
    expect(checks.schema).toMatch(
      new RegExp(
        `^ok +schema +current: ${MIGRATIONS.length} migration\\(s\\) applied, the latest ${MIGRATIONS.at(-1)}`,
      ),
    );
    expect(checks.role).toBe(
      `ok    role      ${role}: select, insert, update on entity, observation, outbox; owns none; no CREATE on schema public or the database; not a superuser`,
    );
    expect(checks.budget).toMatch(
      /^ok +budget +demand 6 \(EntityFunction: SQS 5 x pool 1 = 5; OutboxRelayFunction: schedule 1 x pool 1 = 1; MigrationFunction: no SQS or schedule event = 0\) of \d+ left \(max_connections \d+ - superuser_reserved_connections \d+ - reserved_connections \d+ - in use \d+\): \d+ %$/,
    );
    expect(result.stdout).toMatch(/^doctor: ready, 1 warning$/m);
    expect(result.stderr).toContain(`doctor: EntityFunction (ENV=dev) on postgres ${role}@`);
    expect(`${result.stdout}${result.stderr}`).not.toContain(APP_PASSWORD);
  });

  it("fails the owner role (a superuser), naming each DDL right it has", async () => {
    const result = await runCli(["doctor", "--env-file", ownerEnv(database.name)], isolatedEnv());
    expect(result.code).toBe(1);
    expect(lines(result.stdout).role).toBe(
      `FAIL  role      ${String(database.config.user)} is a superuser; owns entity, observation, outbox (may alter or drop them); has CREATE on schema public; has CREATE on the database; may create databases (CREATEDB); may create roles (CREATEROLE)`,
    );
    expect(result.stdout).toMatch(/^doctor: 1 check failed, 1 warning$/m);
  });

  it("fails a schema with migrations pending, naming them", async () => {
    const fresh = await createTestDatabase("doctor_fresh");
    const result = await runCli(["doctor", "--json", "--env-file", ownerEnv(fresh.name)], isolatedEnv());
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.checks.find((entry) => entry.name === "schema")).toMatchObject({
      verdict: "fail",
      summary: expect.stringMatching(
        new RegExp(
          `^${MIGRATIONS.length} migration\\(s\\) pending: ${MIGRATIONS.join(", ")}; run \`pnpm devrunner migrate\``,
        ),
      ) as unknown,
    });
  });

  it("adds up the connection budget over every function of the template, and fails what cannot fit", async () => {
    const template = join(scratch, "template-huge.yaml");
    const relay = [
      "  TestRelayFunction:",
      "    Type: AWS::Serverless::Function",
      "    Properties:",
      "      Handler: index.relay",
      "      Environment:",
      "        Variables:",
      "          DB_HOST: !Ref DbHost",
      '          DB_POOL_MAX: "2"',
      "      Events:",
      "        Every minute:",
      "          Type: ScheduleV2",
      "          Properties:",
      "            ScheduleExpression: rate(1 minute)",
      "",
    ].join("\n");
    writeFileSync(
      template,
      readFileSync(join(repoRoot, "template.yaml"), "utf8")
        .replace("MaximumConcurrency: !Ref MaximumConcurrency", "MaximumConcurrency: 100000")
        .replace("\nOutputs:\n", `\n${relay}\nOutputs:\n`),
    );
    // A session held open for the whole run (a pool's idle connection may be closed while doctor runs).
    const held = await testPgClient(database.config);
    const result = await runCli(
      ["doctor", "EntityFunction", "-t", template, "--env-file", ownerEnv(database.name), "--json"],
      isolatedEnv(),
    ).finally(() => held.end());
    expect(result.code).toBe(1);
    const budget = (JSON.parse(result.stdout) as Report).checks.find((entry) => entry.name === "budget")!;
    const details = budget.details as {
      demand: number;
      left: number;
      capacity: {
        maxConnections: number;
        superuserReservedConnections: number;
        reservedConnections: number;
        inUse: number;
      };
    };
    const [settings] = (
      await sql<{ max: string; superuser: string; reserved: string }>`
        select current_setting('max_connections') as max,
          current_setting('superuser_reserved_connections') as superuser,
          current_setting('reserved_connections') as reserved
      `.execute(owner)
    ).rows;
    expect(details.capacity).toMatchObject({
      maxConnections: Number(settings?.max),
      superuserReservedConnections: Number(settings?.superuser),
      reservedConnections: Number(settings?.reserved),
    });
    expect(details.capacity.inUse).toBeGreaterThanOrEqual(1); // the session held above
    const { capacity } = details;
    expect(details.left).toBe(
      capacity.maxConnections -
        capacity.superuserReservedConnections -
        capacity.reservedConnections -
        capacity.inUse,
    );
    expect(details.demand).toBe(100_003);
    expect(budget.verdict).toBe("fail");
    expect(budget.summary).toBe(
      `demand 100003 (EntityFunction: SQS 100000 x pool 1 = 100000; OutboxRelayFunction: schedule 1 x pool 1 = 1; MigrationFunction: no SQS or schedule event = 0; TestRelayFunction: schedule 1 x pool 2 = 2) exceeds the ${details.left} left (max_connections ${capacity.maxConnections} - superuser_reserved_connections ${capacity.superuserReservedConnections} - reserved_connections ${capacity.reservedConnections} - in use ${capacity.inUse})`,
    );
  });

  it("fails a database that does not answer, and settings that cannot be used, without crashing", async () => {
    const closed = writeEnvFile("closed.env", {
      DATABASE_URL: "postgres://nobody:secret-pw@127.0.0.1:1/nothing",
      DB_SSL: "disable",
    });
    const down = await runCli(["doctor", "--env-file", closed], isolatedEnv());
    expect(down.code).toBe(1);
    expect(lines(down.stdout).database).toMatch(
      /^FAIL +database +cannot reach 127\.0\.0\.1:1\/nothing: .*ECONNREFUSED/,
    );
    expect(lines(down.stdout).schema).toMatch(/^n\/a +schema +not checked: the database did not answer/);
    expect(down.stdout).not.toContain("secret-pw");

    const bad = writeEnvFile("bad.env", {
      DB_HOST: "db.example.com",
      DB_NAME: "x",
      DB_USER: "x",
      DB_PORT: "port",
    });
    const invalid = await runCli(["doctor", "--env-file", bad], isolatedEnv());
    expect(invalid.code).toBe(1);
    expect(lines(invalid.stdout).database).toMatch(
      /^FAIL +database +its settings cannot be used: DB_PORT: port must be a whole number/,
    );
  });

  it("says what it can on the embedded database and in memory, and exits 0", async () => {
    const memory = await runCli(["doctor", "--db", "memory"], isolatedEnv());
    expect(memory.code).toBe(0);
    expect(lines(memory.stdout).schema).toMatch(/^ok +schema/);
    expect(lines(memory.stdout).budget).toMatch(/^n\/a +budget/);
    const embedded = await runCli(["doctor"], isolatedEnv());
    expect(embedded.code).toBe(0);
    expect(lines(embedded.stdout).schema).toMatch(/^ok +schema +created and migrated on first use/);
    for (const name of ["tls", "role", "budget"]) expect(lines(embedded.stdout)[name]).toMatch(/^n\/a /);
  });
});
