import { migrateToLatest, type EntityDatabase } from "@entity/adapters/postgres";
import { createTestDatabase, testKysely } from "@entity/adapters/testing";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzHandler, postgresTarget, type FuzzReport, type FuzzTarget } from "./testing/fuzz/index.ts";

// Bad input through the real handler and real Postgres 17: random bodies and keys near the grammar's
// edges, broken and nested SNS envelopes, SQL fragments, NUL bytes, lone surrogates, 1 MB bodies, FIFO
// batches and redeliveries (generators and oracle in ./testing/fuzz). No crash; every record either
// stored exactly as given or set aside with a reason; the store holds nothing else; the schema is
// untouched. `pnpm fuzz` runs the same at scale.

let db: Kysely<EntityDatabase>;
let target: FuzzTarget;

beforeAll(async () => {
  const database = await createTestDatabase("fuzz");
  db = testKysely<EntityDatabase>(database.config, { max: 2 });
  await migrateToLatest(db);
  target = await postgresTarget(db);
});
afterAll(async () => {
  await db?.destroy();
});

const explain = (report: FuzzReport): string =>
  report.failure
    ? `seed ${report.seed}, path ${report.failure.path}\n${report.failure.message}\n${report.failure.counterexample}`
    : `passed ${report.runs} runs (seed ${report.seed})`;

describe("fuzzing the handler with bad input, against Postgres 17", () => {
  it("never crashes, stores exactly what it accepts and sets everything else aside with a reason", async () => {
    const report = await fuzzHandler(target, { runs: 200 });
    expect(report.ok, explain(report)).toBe(true);
    expect(report.runs).toBe(200);
  }, 120_000);
});
