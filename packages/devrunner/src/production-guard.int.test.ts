import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { EntityDatabase } from "@entity/adapters";
import { migratedTestDatabase, type TestDatabase } from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

// The production guard looks at the environment the function would get (template defaults, parameter
// overrides, the env-vars file), not only at the devrunner's own ENV.
const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "prod-guard-"));
const event = join(repoRoot, "events/my_test_entity_a1.json");
// One build for the whole file: the first allowed invoke builds, later ones find it fresh.
const env = isolatedEnv();
let database: TestDatabase;
let db: Kysely<EntityDatabase>;

/** An env-vars file naming the test database, with the function's ENV set to `envName` (or left out). */
function envVarsFile(name: string, envName: string | undefined): string {
  const path = join(scratch, name);
  writeFileSync(
    path,
    JSON.stringify({
      EntityFunction: {
        ...(envName === undefined ? {} : { ENV: envName }),
        DB_HOST: database.config.host,
        DB_PORT: database.config.port,
        DB_NAME: database.name,
        DB_USER: database.config.user,
        DB_PASSWORD: database.config.password,
        DB_SSL: "disable",
        DB_SECRET_ARN: "",
        LOG_LEVEL: "WARN",
      },
    }),
  );
  return path;
}

beforeAll(async () => {
  ({ database, db } = await migratedTestDatabase("guard"));
});
afterAll(async () => {
  await db?.destroy();
});

describe("invoke refuses a production function environment unless --allow-prod", () => {
  it("from the env-vars file's function section", async () => {
    const file = envVarsFile("prod.json", "prod");
    const refused = await runCli(["invoke", "--env-vars", file, "--event", event], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `ENV=prod from env-vars file ${file} (EntityFunction) is production (/^(prod|production|prd)(-.*)?$/i, the default): refusing to write. Pass --allow-prod`,
    );
    expect(refused.stderr).not.toMatch(/built EntityFunction|REPORT/);

    const allowed = await runCli(["invoke", "--env-vars", file, "--event", event, "--allow-prod"], env);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe('{"batchItemFailures":[]}\n');
    expect(await db.selectFrom("entity").select("name").execute()).toEqual([
      { name: "MY_CRYPTIC_ENTITY_XXX_YYY" },
    ]);
  });

  it("from --parameter-overrides Env=prod (the template's Env feeds ENV)", async () => {
    const file = envVarsFile("no-env.json", undefined);
    const args = ["invoke", "-n", file, "-e", event, "--parameter-overrides", "Env=prod LogLevel=WARN"];
    const refused = await runCli(args, env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/ENV=prod from --parameter-overrides Env=prod is production/);
    const allowed = await runCli([...args, "--allow-prod"], env);
    expect(allowed.code, allowed.stderr).toBe(0);
  });

  it("from the template's default, and an env-vars file saying otherwise wins", async () => {
    const template = join(scratch, "template-prod.yaml");
    writeFileSync(
      template,
      readFileSync(join(repoRoot, "template.yaml"), "utf8").replace(
        /(\n {2}Env:\n {4}Type: String\n {4}Default:) dev\n/,
        "$1 production\n",
      ),
    );
    const file = envVarsFile("no-env.json", undefined);
    const refused = await runCli(["invoke", "-t", template, "-n", file, "-e", event], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      `ENV=production from the default of parameter Env in ${template} is production`,
    );
    const allowed = await runCli(["invoke", "-t", template, "-n", file, "-e", event, "--allow-prod"], env);
    expect(allowed.code, allowed.stderr).toBe(0);
    const dev = envVarsFile("dev.json", "dev");
    const overridden = await runCli(["invoke", "-t", template, "-n", dev, "-e", event], env);
    expect(overridden.code, overridden.stderr).toBe(0);
  });

  it("up refuses the same way, before it serves anything", async () => {
    const result = await runCli(["up", "--port", "0", "--parameter-overrides", "Env=prd"], env);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/ENV=prd from --parameter-overrides Env=prd is production/);
    expect(result.stdout).not.toContain("local cloud up");
  });
});

describe("process and migrate refuse a production ENV in their environment", () => {
  it("process refuses ENV=PRD from the environment", async () => {
    const result = await runCli(
      ["process", "--db", "memory", "KEY_20220101T000000"],
      isolatedEnv({ ENV: "PRD" }),
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/ENV=PRD from the environment is production .*Pass --allow-prod/);
  });

  it("migrate refuses ENV=prod from --env-file, but lists with --status, and runs with --allow-prod", async () => {
    const envFile = join(scratch, "prod.env");
    writeFileSync(
      envFile,
      [`DATABASE_URL=${database.connectionString}`, "DB_SSL=disable", "ENV=prod", ""].join("\n"),
    );
    const refused = await runCli(["migrate", "--env-file", envFile], isolatedEnv());
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`ENV=prod from env file ${envFile} is production`);
    const status = await runCli(["migrate", "--status", "--env-file", envFile], isolatedEnv());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^done\s+2026_11_27_0001/m);
    const allowed = await runCli(["migrate", "--allow-prod", "--env-file", envFile], isolatedEnv());
    expect(allowed.code, allowed.stderr).toBe(0);
  });
});
