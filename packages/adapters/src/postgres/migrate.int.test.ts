import { describe, expect, it } from "vitest";
import { testKysely } from "../testing/test-database.ts";
import { SchemaNotCurrentError } from "../errors.ts";
import { createTestDatabase } from "../testing/postgres-test-database.ts";
import { assertSchemaCurrent, migrateToLatest, migrationStatus } from "./migrate.ts";
import { migrations } from "./migrations/index.ts";

describe("migrations on Postgres 17", () => {
  it("reports pending migrations, applies them in order, and is idempotent", async () => {
    const database = await createTestDatabase("migrate");
    const db = testKysely<any>(database.config);
    try {
      const names = Object.keys(migrations);
      expect((await migrationStatus(db)).map((status) => [status.name, status.executedAt])).toEqual(
        names.map((name) => [name, undefined]),
      );
      const error = await assertSchemaCurrent(db).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(SchemaNotCurrentError);
      expect((error as SchemaNotCurrentError).message).toContain(names[0]);
      expect((error as SchemaNotCurrentError).missingMigrations).toEqual(names);

      const first = await migrateToLatest(db);
      expect(first.results?.map((result) => [result.migrationName, result.status])).toEqual(
        names.map((name) => [name, "Success"]),
      );
      expect((await migrationStatus(db)).every((status) => status.executedAt instanceof Date)).toBe(true);
      await expect(assertSchemaCurrent(db)).resolves.toBeUndefined();
      expect((await migrateToLatest(db)).results).toEqual([]);
    } finally {
      await db.destroy();
    }
  });
});
