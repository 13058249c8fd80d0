import type { Kysely } from "kysely";
import { sql } from "kysely";
import { afterAll, describe, expect, inject, it } from "vitest";
import { testKysely } from "../testing/test-database.ts";
import { createTestDatabase } from "../testing/postgres-test-database.ts";

describe("the integration Postgres container", () => {
  let db: Kysely<unknown> | undefined;
  afterAll(async () => {
    await db?.destroy();
  });

  it("answers Kysely + pg queries and runs PostgreSQL 17", async () => {
    const database = await createTestDatabase("version");
    db = testKysely<unknown>(database.config);
    const result = await sql<{ server_version: string; version: string }>`
      select current_setting('server_version') as server_version, version() as version
    `.execute(db);
    const row = result.rows[0];
    console.log(`integration Postgres (${inject("postgres").image}): ${row?.version}`);
    expect(row?.server_version).toMatch(/^17\./);
  });
});
