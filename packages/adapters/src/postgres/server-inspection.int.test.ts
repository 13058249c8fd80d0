import { sql, type Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testKysely, testPgClient } from "../testing/test-database.ts";
import { createTestDatabase, type TestDatabase } from "../testing/postgres-test-database.ts";
import { migrateToLatest } from "./migrate.ts";
import { readConnectionCapacity, readRolePrivileges, readServerIdentity } from "./server-inspection.ts";

let database: TestDatabase;
let owner: Kysely<unknown>;
let app: Kysely<unknown>;
let role: string;

beforeAll(async () => {
  database = await createTestDatabase("inspect");
  owner = testKysely(database.config, { max: 1 });
  await migrateToLatest(owner);
  // The README's least-privilege grants.
  role = `app_${database.name}`.slice(0, 60);
  await sql.raw(`create role "${role}" login password 'app-password'`).execute(owner);
  await sql.raw(`grant connect on database "${database.name}" to "${role}"`).execute(owner);
  await sql.raw(`grant select, insert, update on entity, observation, outbox to "${role}"`).execute(owner);
  await sql.raw(`grant select on kysely_migration, kysely_migration_lock to "${role}"`).execute(owner);
  await sql.raw(`grant usage on all sequences in schema public to "${role}"`).execute(owner);
  await sql.raw(`revoke create on schema public from public`).execute(owner);
  app = testKysely({ ...database.config, user: role, password: "app-password" }, { max: 1 });
});
afterAll(async () => {
  await app?.destroy();
  await owner?.destroy();
});

describe("server inspection (read-only facts for doctor)", () => {
  it("reads the server version, the session's user and TLS state", async () => {
    const identity = await readServerIdentity(app);
    expect(identity).toMatchObject({ user: role, database: database.name, tls: { inUse: false } });
    expect(identity.serverVersion).toMatch(/^17\./);
  });

  it("reads the connection limits and counts other client sessions, not this one", async () => {
    const before = await readConnectionCapacity(app);
    expect(before.maxConnections).toBeGreaterThan(0);
    expect(before.superuserReservedConnections).toBeGreaterThanOrEqual(0);
    expect(before.reservedConnections).toBeGreaterThanOrEqual(0); // PostgreSQL 16+
    const extra = await testPgClient(database.config);
    try {
      const during = await readConnectionCapacity(app);
      expect(during.inUse).toBeGreaterThanOrEqual(1);
      const [mine] = (
        await sql<{
          n: string;
        }>`select count(*) as n from pg_stat_activity where pid = pg_backend_pid()`.execute(app)
      ).rows;
      expect(Number(mine?.n)).toBe(1);
    } finally {
      await extra.end();
    }
  });

  it("sees a least-privilege role: DML on the tables, no ownership, no CREATE, not superuser", async () => {
    expect(await readRolePrivileges(app)).toEqual({
      role,
      superuser: false,
      rdsSuperuser: false,
      createRole: false,
      createDatabase: false,
      schema: "public",
      createOnSchema: false,
      createOnDatabase: false,
      readsMigrations: true,
      tables: ["entity", "observation", "outbox"].map((table) => ({
        table,
        exists: true,
        select: true,
        insert: true,
        update: true,
        owner: String(database.config.user),
        actsAsOwner: false,
      })),
    });
  });

  it("sees the owner (a superuser here) as what it is, and a missing table as missing", async () => {
    const privileges = await readRolePrivileges(owner, ["entity", "no_such_table"]);
    expect(privileges).toMatchObject({
      superuser: true,
      createOnSchema: true,
      createOnDatabase: true,
      tables: [
        { table: "entity", exists: true, owner: String(database.config.user), actsAsOwner: true },
        { table: "no_such_table", exists: false, select: false, owner: undefined, actsAsOwner: false },
      ],
    });
  });
});
