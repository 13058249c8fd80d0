import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migratedTestDatabase, testPgClient, type TestDatabase } from "@entity/adapters/testing";
import type pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { writeTemplateWithTimeout } from "./soak/template-timeout.ts";
import { isolatedEnv, runCli, startCli } from "./testing/cli.ts";

const repoRoot = join(import.meta.dirname, "../../..");

// Issue #14: `up` on the embedded default (PGlite, one session) under the template's own concurrency.
// The same 2,000 keys go through `up` twice, on the embedded database and on Postgres 17; both must end
// in the same state, with no failed or timed-out batch on the way.
const scratch = mkdtempSync(join(tmpdir(), "up-embedded-"));
const buildDir = join(scratch, "build");
const KEY_COUNT = 2000;
const PUBLISHERS = 4;
const keys = entityKeys(KEY_COUNT);
const distinctKeys = new Set(keys).size;
let database: TestDatabase;

beforeAll(async () => {
  const migrated = await migratedTestDatabase("up_embedded");
  database = migrated.database;
  await migrated.db.destroy();
});

/**
 * `count` keys over count/8 names: each name's stamps in no particular order, one key in ten a duplicate
 * of an earlier one, all shuffled (a fixed seed, so a failure can be replayed).
 */
function entityKeys(count: number): string[] {
  let seed = 20220608;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const names = Array.from({ length: Math.ceil(count / 8) }, (_, i) => `CONCURRENT_ENTITY_${i}`);
  const made: string[] = [];
  while (made.length < count) {
    if (made.length > 0 && random() < 0.1) {
      made.push(made[Math.floor(random() * made.length)]!);
      continue;
    }
    const name = names[Math.floor(random() * names.length)]!;
    const day = String(1 + Math.floor(random() * 28)).padStart(2, "0");
    const hour = String(Math.floor(random() * 24)).padStart(2, "0");
    const minute = String(Math.floor(random() * 60)).padStart(2, "0");
    made.push(`${name}_202203${day}T${hour}${minute}00`);
  }
  return made;
}

interface FinalState {
  entities: unknown[];
  observations: unknown[];
}

async function finalState(client: pg.Client): Promise<FinalState> {
  const entities = await client.query(
    `SELECT name, latest_key, latest_observed_at, observation_count FROM entity ORDER BY name`,
  );
  const observations = await client.query(`SELECT key, name, observed_at FROM observation ORDER BY key`);
  return { entities: entities.rows, observations: observations.rows };
}

interface UpRun {
  readonly output: string;
  readonly state: FinalState;
  /** From `publish` starting to settled (a figure, never asserted). */
  readonly settledMs: number;
}

/**
 * Runs `up` (concurrency 5, the relay every second), publishes the keys and waits until it has settled:
 * every record's batch reported and every distinct key stored. The reference run on Postgres gets a 3 s
 * visibility timeout (with a template copy whose Timeout is 3 s, as AWS requires): a batch that loses
 * too many races to create one name fails there, and comes back sooner.
 */
async function runUp(label: string, database?: pg.ClientConfig & { database: string }): Promise<UpRun> {
  const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
  const args = ["up", "--no-reload", "--port", "0", "--schedule-period", "1"];
  args.push("--parameter-overrides", "MaximumConcurrency=5");
  if (database) {
    const template = join(scratch, "template-short-timeout.yaml");
    writeTemplateWithTimeout(join(repoRoot, "template.yaml"), template, "EntityFunction", 3);
    args.push("--template", template, "--visibility-timeout", "3");
  }
  const vars = join(scratch, `${label}.json`);
  const variables: Record<string, unknown> = { LOG_LEVEL: "WARN" };
  if (database)
    Object.assign(variables, {
      DB_HOST: String(database.host),
      DB_PORT: Number(database.port),
      DB_NAME: database.database,
      DB_USER: String(database.user),
      DB_PASSWORD: String(database.password),
      DB_SSL: "disable",
    });
  writeFileSync(vars, JSON.stringify({ EntityFunction: variables }));
  const up = startCli([...args, "--env-vars", vars], env);
  let client: pg.Client | undefined;
  try {
    await up.waitFor(/^ready:/m, 90_000);
    const port = /embedded PGlite \(.*\) served on 127\.0\.0\.1:(\d+)/.exec(up.output())?.[1];
    client = await testPgClient(
      database ?? { host: "127.0.0.1", port: Number(port), user: "postgres", database: "postgres" },
    );
    const publishing = Date.now();
    // Four publishers at once, as several producers would: batches fill up, and publishing is no bottleneck.
    const share = Math.ceil(keys.length / PUBLISHERS);
    const published = await Promise.all(
      Array.from({ length: PUBLISHERS }, (_, i) =>
        runCli(["publish", ...keys.slice(i * share, (i + 1) * share)], env),
      ),
    );
    for (const run of published) expect(run.code, run.stderr).toBe(0);
    const stored = async (): Promise<number> =>
      Number((await client!.query<{ n: string }>("SELECT count(*) AS n FROM observation")).rows[0]!.n);
    const deadline = Date.now() + 180_000;
    while (
      (recordsReported(up.output()) < keys.length || (await stored()) < distinctKeys) &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 200));
    const settledMs = Date.now() - publishing;
    return { output: up.output(), state: await finalState(client), settledMs };
  } finally {
    await client?.end();
    await up.stop();
  }
}

/** Records of the batches `up` has reported so far (a record that failed and came back counts again). */
function recordsReported(output: string): number {
  return [...output.matchAll(/^batch of (\d+) -> /gm)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** The batches `up` has reported, with how many of their records failed. */
function batchesOf(output: string): { line: string; failed: number }[] {
  return [...output.matchAll(/^batch of \d+ -> \d+ ok, (\d+) failed/gm)].map((match) => ({
    line: match[0],
    failed: Number(match[1]),
  }));
}

describe("up on the embedded default under the template's concurrency (issue #14)", () => {
  it("takes 2,000 keys with no failed or timed-out batch, ending as the same run on Postgres 17", async () => {
    const embedded = await runUp("embedded");
    const batches = batchesOf(embedded.output);
    expect(batches.filter((batch) => batch.failed > 0).map((batch) => batch.line)).toEqual([]);
    expect(recordsReported(embedded.output)).toBe(keys.length); // each record once: none came back
    // A timed-out invocation's REPORT says so; a relay run that failed or timed out is printed as such.
    expect(embedded.output).not.toMatch(/Status: timeout|schedule OutboxRelayFunction: (?!\{)/);
    expect(embedded.output).toMatch(/concurrency 5\)/);
    expect(embedded.state.observations).toHaveLength(distinctKeys);

    const reference = await runUp("postgres", { ...database.config, database: database.name });
    expect(reference.state.observations).toHaveLength(distinctKeys);
    expect(embedded.state).toEqual(reference.state);
    const rate = (run: UpRun): number => Math.round((keys.length / run.settledMs) * 1000);
    const referenceFailed = batchesOf(reference.output).reduce((sum, batch) => sum + batch.failed, 0);
    console.log(
      `up, ${keys.length} keys published by ${PUBLISHERS} \`devrunner publish\` at once, publish -> settled: embedded default ${rate(embedded)} records/s (${batches.length} batches, 0 failed); Postgres 17 ${rate(reference)} records/s (${referenceFailed} records failed and came back)`,
    );
  }, 400_000);
});
