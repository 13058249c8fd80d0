import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { EntityDatabase } from "@entity/adapters";
import { migrations } from "@entity/adapters/postgres";
import { migratedTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

const MIGRATIONS = Object.keys(migrations);
const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "invoke-"));
let database: TestDatabase;
let db: Kysely<EntityDatabase>;
let envVarsFile: string;
// One build for the whole file: the first invoke builds, later ones find it fresh.
const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: join(scratch, "build") });

beforeAll(async () => {
  ({ database, db } = await migratedTestDatabase("invoke"));
  envVarsFile = join(scratch, "entity_lambda_env_local.json");
  writeFileSync(
    envVarsFile,
    JSON.stringify({
      Parameters: { LOG_LEVEL: "WARN", NOT_IN_TEMPLATE: "x" },
      EntityFunction: {
        DB_HOST: database.config.host,
        DB_PORT: database.config.port,
        DB_NAME: database.name,
        DB_USER: database.config.user,
        DB_PASSWORD: database.config.password,
        DB_SSL: "disable",
        DB_SECRET_ARN: "",
        DB_POOL_MAX: 1,
      },
    }),
  );
});
afterAll(async () => {
  await db?.destroy();
});

describe("devrunner invoke (sam local invoke, without Docker)", () => {
  it("takes sam local invoke's arguments and env-vars file, and runs the built function against Postgres", async () => {
    const result = await runCli(
      [
        "invoke",
        "EntityFunction",
        "--env-vars",
        envVarsFile,
        "--event",
        join(repoRoot, "events/my_test_entity_a1.json"),
      ],
      env,
    );
    expect(result.stderr).toMatch(
      /warning: NOT_IN_TEMPLATE .* is not declared in EntityFunction's Environment in the template: dropped, as SAM does \(aws-sam-cli #6145\)/,
    );
    // Lambda's START, END and REPORT lines around the invocation, in the function's log stream.
    expect(result.stderr).toMatch(
      /START RequestId: ([0-9a-f-]{36}) Version: \$LATEST\n(.*\n)*END RequestId: \1\nREPORT RequestId: \1\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\n/,
    );
    // The template's schema migration ran first, through MigrationFunction, on the same database.
    expect(result.stderr).toMatch(
      new RegExp(
        `SchemaMigration \\(Custom::SchemaMigration, by MigrationFunction\\): SUCCESS in \\d+ ms: postgres \\S+/${database.name} .*is current`,
      ),
    );
    expect(result.stdout).toBe('{"batchItemFailures":[]}\n');
    expect(result.code).toBe(0);
    expect(await db.selectFrom("entity").select("latest_key").execute()).toEqual([
      { latest_key: "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249" },
    ]);
  });

  it("runs every sample event, short flags included, and the response lists failures", async () => {
    for (const name of ["sqs_json_body.json", "sns_wrapped.json", "fifo.json", "invalid_key.json"]) {
      const result = await runCli(
        [
          "invoke",
          "-n",
          envVarsFile,
          "-e",
          join(repoRoot, "events", name),
          "-t",
          join(repoRoot, "template.yaml"),
        ],
        env,
      );
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ batchItemFailures: [] });
    }
    const names = await db.selectFrom("entity").select("name").orderBy("name").execute();
    expect(names.map((row) => row.name)).toEqual([
      "FIFO_ENTITY_A",
      "FIFO_ENTITY_B",
      "MY_CRYPTIC_ENTITY_XXX_YYY",
      "OTHER_ENTITY_A1",
      "SNS_JSON_ENTITY",
    ]);
  });

  it("feeds `event` output back into invoke, from a file and from stdin", async () => {
    const eventFile = join(scratch, "generated.json");
    const generated = await runCli(
      [
        "event",
        "sns",
        "--json-body",
        "--out",
        eventFile,
        "GENERATED_ENTITY_20220608T043249",
        'QUOTE"D_20220608T043249',
      ],
      env,
    );
    expect(generated.code).toBe(0);
    const fromFile = await runCli(["invoke", "--env-vars", envVarsFile, "--event", eventFile], env);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toEqual({ batchItemFailures: [] });
    const fifo = await runCli(["event", "fifo", "STDIN_ENTITY_20220608T043249"], env);
    const fromStdin = await runCli(["invoke", "--env-vars", envVarsFile, "--event", "-"], env, fifo.stdout);
    expect(fromStdin.code).toBe(0);
    const rows = await db
      .selectFrom("entity")
      .select("name")
      .where("name", "in", ["GENERATED_ENTITY", "STDIN_ENTITY"])
      .execute();
    expect(rows).toHaveLength(2);
  });

  it("with no database named, hands the function the embedded database over the wire, and it persists", async () => {
    const own = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: join(scratch, "build") });
    const first = await runCli(["invoke", "--event", join(repoRoot, "events/my_test_entity_a1.json")], own);
    expect(first.stderr).toMatch(/database: embedded PGlite \(.*\) served on 127\.0\.0\.1:\d+/);
    expect(first.stderr).toMatch(/local cloud: fauxqs on http:\/\/127\.0\.0\.1:\d+/);
    // Migrated over the wire by the template's MigrationFunction (a Create event answered to a local URL).
    expect(first.stderr).toMatch(
      new RegExp(
        `SchemaMigration \\(Custom::SchemaMigration, by MigrationFunction\\): SUCCESS in \\d+ ms: applied ${MIGRATIONS.length} migration\\(s\\) to postgres postgres@127\\.0\\.0\\.1:\\d+/postgres .*: ${MIGRATIONS.join(", ")}`,
      ),
    );
    expect(first.code).toBe(0);
    const processed = await runCli(["process", "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249"], own);
    expect(processed.stdout).toMatch(/^duplicate/);
  });

  it("stops before the function runs when the schema migration answers FAILED, with its reason", async () => {
    const refused = join(scratch, "migration-refused.json");
    const wrong = "Wr0ng-migrator-pa55-3b9d";
    writeFileSync(
      refused,
      JSON.stringify({
        ...(JSON.parse(readFileSync(envVarsFile, "utf8")) as object),
        MigrationFunction: { DB_PASSWORD: wrong },
      }),
    );
    const result = await runCli(
      ["invoke", "--env-vars", refused, "--event", join(repoRoot, "events/my_test_entity_a1.json")],
      env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /devrunner: SchemaMigration \(Custom::SchemaMigration, by MigrationFunction\) failed, as it would fail the deploy: cannot read the migration status of postgres .*password authentication failed/,
    );
    // The function never ran (the one REPORT is the migration function's), and its logs are shown.
    expect(result.stderr.match(/^REPORT RequestId/gm)).toHaveLength(1);
    expect(result.stderr).toMatch(/"message":"Create SchemaMigration: FAILED"/);
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toContain(wrong);
  });

  it("kills the function at the template's Timeout and says so", async () => {
    // A database that accepts connections and never answers: the function waits until it is killed.
    const silent: Server = createServer(() => undefined);
    await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
    const port = (silent.address() as { port: number }).port;
    const template = join(scratch, "template-timeout.yaml");
    writeFileSync(
      template,
      readFileSync(join(repoRoot, "template.yaml"), "utf8").replace("Timeout: 30", "Timeout: 2"),
    );
    const hangingEnv = join(scratch, "hanging.json");
    writeFileSync(
      hangingEnv,
      JSON.stringify({
        EntityFunction: {
          DB_HOST: "127.0.0.1",
          DB_PORT: port,
          DB_NAME: "x",
          DB_USER: "x",
          DB_PASSWORD: "x",
          DB_SSL: "disable",
          DB_CONNECT_TIMEOUT_MS: 60000,
        },
        // Its schema migration runs first, on the real database (its own section wins over the function's).
        MigrationFunction: {
          DB_HOST: database.config.host,
          DB_PORT: database.config.port,
          DB_NAME: database.name,
          DB_USER: database.config.user,
          DB_PASSWORD: database.config.password,
          DB_CONNECT_TIMEOUT_MS: 5000,
        },
      }),
    );
    const started = Date.now();
    const result = await runCli(
      [
        "invoke",
        "--template",
        template,
        "--env-vars",
        hangingEnv,
        "--event",
        join(repoRoot, "events/my_test_entity_a1.json"),
      ],
      env,
    );
    silent.close();
    // As SAM: exit 0, nothing on stdout, its line; the log stream has Lambda's own lines too.
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Function 'EntityFunction' timed out after 2 seconds$/m);
    expect(result.stderr).toMatch(/Task timed out after 2\.00 seconds/);
    expect(result.stderr).toMatch(
      /REPORT RequestId: .*Duration: 2000\.00 ms.*Max Memory Used: [1-9]\d* MB.*Status: timeout/,
    );
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("reports a clear error for a malformed env-vars file", async () => {
    const bad = join(scratch, "bad-env.json");
    writeFileSync(bad, JSON.stringify({ EntityFunction: { DB_HOST: { nested: true } } }));
    const result = await runCli(
      ["invoke", "--env-vars", bad, "--event", join(repoRoot, "events/my_test_entity_a1.json")],
      env,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/EntityFunction\.DB_HOST must be a string, number or boolean/);
  });

  it("takes a sam local invoke command line as it is: samconfig.toml, Docker-only flags, --no-event, -l", async () => {
    const config = join(scratch, "samconfig.toml");
    writeFileSync(
      config,
      `version = 0.1\n[ci.global.parameters]\nstack_name = "x"\n[ci.local_invoke.parameters]\nenv_vars = "${envVarsFile}"\nskip_pull_image = true\n`,
    );
    const logFile = join(scratch, "function.log");
    // Found as SAM finds it: SAM_TEMPLATE_FILE, from a folder with no template.yaml.
    const elsewhere = { ...env, INIT_CWD: scratch, SAM_TEMPLATE_FILE: join(repoRoot, "template.yaml") };
    const args = ["--config-file", config, "--config-env", "ci", "--no-event", "--docker-network", "n"];
    const result = await runCli(["invoke", ...args, "-l", logFile, "--region", "eu-central-1"], elsewhere);
    expect(result.stderr).toMatch(
      /^note: --skip-pull-image, --docker-network: SAM's Docker options, no effect here/m,
    );
    expect(result.stdout).toBe('{"batchItemFailures":[]}\n');
    expect(result.code).toBe(0);
    // The function's logs went to the file, Lambda's lines included.
    expect(result.stderr).not.toMatch(/START RequestId/);
    expect(readFileSync(logFile, "utf8")).toMatch(
      /START RequestId: (\S+) Version: \$LATEST\n(.*\n)*END RequestId: \1\nREPORT RequestId: \1\t/,
    );

    const { SAM_TEMPLATE_FILE: _, ...withoutTemplate } = elsewhere;
    const missing = await runCli(["invoke", "--no-event"], withoutTemplate);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /no template\.yaml, template\.yml or template\.json in .*: give one with --template/,
    );
  });
});
