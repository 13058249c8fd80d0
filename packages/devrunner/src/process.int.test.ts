import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestDatabase, testKysely, type TestDatabase } from "@entity/adapters/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "./testing/cli.ts";

const KEY = "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249";
const LATER = "MY_CRYPTIC_ENTITY_XXX_YYY_20220609T000000";

describe("devrunner process", () => {
  it("runs on the embedded database by default, which persists between runs", async () => {
    const env = isolatedEnv();
    const first = await runCli(["process", KEY], env);
    expect(first.stderr).toContain(`target: embedded PGlite in ${env.DEVRUNNER_DATA_DIR}`);
    expect(first.stdout).toMatch(
      new RegExp(`^created\\s+${KEY}\\n\\s+published entity.created [0-9a-f-]{36} -> in-memory`),
    );
    expect(first.code).toBe(0);
    const second = await runCli(["process", LATER, KEY], env);
    expect(second.stdout).toMatch(
      /^updated\s+MY_CRYPTIC_ENTITY_XXX_YYY_20220609T000000\nduplicate\s+MY_CRYPTIC/m,
    );
    expect(second.code).toBe(0);
  });

  it("uses memory with --db memory, prints JSON with --json, and exits 1 on an invalid key", async () => {
    const result = await runCli(["process", "--db", "memory", "--json", KEY, "my_bad_key"], isolatedEnv());
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as {
      target: string;
      results: { outcome: string; reason?: { code: string } }[];
    };
    expect(document.target).toBe("in-memory store (nothing is kept)");
    expect(document.results.map((r) => r.outcome)).toEqual(["created", "invalid"]);
    expect(document.results[1]?.reason?.code).toBe("LOWERCASE_LETTER");
  });

  it("refuses ENV=prod unless --allow-prod", async () => {
    const refused = await runCli(["process", "--db", "memory", KEY], isolatedEnv({ ENV: "prod" }));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      /ENV=prod from the environment is production \(.*\): refusing to write\. Pass --allow-prod/,
    );
    const allowed = await runCli(
      ["process", "--db", "memory", "--allow-prod", KEY],
      isolatedEnv({ ENV: "prod" }),
    );
    expect(allowed.code).toBe(0);
  });

  it.each([
    [["process"], /give at least one KEY/],
    [["process", "--nope", KEY], /Unknown option '--nope'/],
    [["process", "--db", "oracle", KEY], /--db must be memory, pglite or postgres, not 'oracle'/],
    [
      ["process", "--env-file", "/nonexistent/dev.env", KEY],
      /cannot read env file '\/nonexistent\/dev.env': no such file/,
    ],
    [
      ["invoke", "--event", "/nonexistent/event.json"],
      /cannot read event '\/nonexistent\/event.json': no such file/,
    ],
    [["nonsense"], /unknown command 'nonsense'/],
    [
      ["process", "--data-dir", "/etc/passwd", KEY],
      /--data-dir '\/etc\/passwd' cannot be the embedded database's folder: it is a file/,
    ],
    [
      ["process", "--data-dir", "/etc/passwd/pglite", KEY],
      /--data-dir '\/etc\/passwd\/pglite' cannot be the embedded database's folder: '\/etc\/passwd' is a file/,
    ],
    [
      ["event", "sqs", KEY, "--out", "/nonexistent/dir/x.json"],
      /event: cannot write --out '\/nonexistent\/dir\/x.json': no folder \/nonexistent\/dir$/m,
    ],
    [["event", "sqs", KEY, "--out", tmpdir()], /event: cannot write --out '.*': it is a folder/],
    [["soak", "extra"], /soak: unexpected argument 'extra' \(soak takes none\)/],
    [["dlq", "extra"], /dlq: unexpected argument 'extra'/],
    [["soak", "-t", "/nope.yaml"], /cannot read the template '\/nope.yaml'/],
    [["up", "--port", "70000"], /--port must be a port number \(0-65535\), not '70000'/],
    [["start-lambda", "--port", "70000"], /--port must be a port number \(0-65535\), not '70000'/],
    [["up", "--visibility-timeout", "99999999"], /--visibility-timeout must be at most 43200 seconds/],
    [["publish", "K1", "K2", "", "K3"], /publish: key 3 of 4 is empty .*; nothing was sent/],
  ])("exits 2 with a clear error for %j", async (args, message) => {
    const result = await runCli(args, isolatedEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/Error:|\n\s+at /);
  });

  it("answers --help for every command", async () => {
    for (const command of [
      "process",
      "invoke",
      "event",
      "up",
      "publish",
      "dlq",
      "watch",
      "repl",
      "migrate",
      "doctor",
      "outbox",
    ]) {
      const result = await runCli([command, "--help"], isolatedEnv());
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toContain(`devrunner ${command}`);
    }
  });

  it("offers a REPL with the wired app", async () => {
    const script = `(await app.process("REPL_20220101T000000")).outcome + "/" + (await app.get("REPL")).state.observationCount\n.exit\n`;
    const result = await runCli(["repl", "--db", "memory"], isolatedEnv(), script);
    expect(result.stdout).toContain("'created/1'");
  });
});

describe("devrunner process against Postgres 17 from an env file", () => {
  let database: TestDatabase;
  let envFile: string;
  beforeAll(async () => {
    database = await createTestDatabase("devrunner");
    envFile = join(isolatedEnv().DEVRUNNER_DATA_DIR!, "..", "dev.env");
    writeFileSync(
      envFile,
      [
        `DB_HOST=${String(database.config.host)}`,
        `DB_PORT=${String(database.config.port)}`,
        `DB_NAME=${database.name}`,
        `DB_USER=${String(database.config.user)}`,
        `DB_PASSWORD=${String(database.config.password)}`,
        "ENV=dev",
        "",
      ].join("\n"),
    );
  });

  it("asks for migrations, migrates, then processes, printing the target without the password", async () => {
    const env = isolatedEnv();
    const early = await runCli(["process", "--env-file", envFile, KEY], env);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      /missing migration\(s\) 2026_11_27_0001_entities_observations_outbox, 2026_11_27_0002_outbox_delivery_state; run `pnpm devrunner migrate`/,
    );
    const status = await runCli(["migrate", "--status", "--env-file", envFile], env);
    expect(status.stdout).toMatch(/^pending\s+2026_11_27_0001/m);
    const migrate = await runCli(["migrate", "--env-file", envFile], env);
    expect(migrate.stdout).toMatch(/^applied\s+2026_11_27_0001_entities_observations_outbox/m);
    const result = await runCli(["process", "--env-file", envFile, KEY], env);
    expect(result.stderr).toContain(
      `target: postgres ${String(database.config.user)}@${String(database.config.host)}:${String(database.config.port)}/${database.name} (ssl disable)`,
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain(String(database.config.password));
    expect(result.stdout).toMatch(/^created\s+MY_CRYPTIC/);
    const db = testKysely(database.config);
    expect(await db.selectFrom("entity").select(["name", "observation_count"]).execute()).toEqual([
      { name: "MY_CRYPTIC_ENTITY_XXX_YYY", observation_count: 1 },
    ]);
    await db.destroy();
  });
});

afterAll(() => undefined);
