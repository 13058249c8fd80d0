import type { RolePrivileges } from "@entity/adapters/postgres";
import { describe, expect, it } from "vitest";
import { formatCheck, judgeRole, judgeSchema, judgeTls } from "./checks.ts";

const tls = (ssl: "disable" | "require" | "verify-full", host: string, sslHost?: string) => ({
  ssl,
  host,
  sslHost,
  sslCaPath: undefined,
});

describe("doctor's TLS verdict", () => {
  it("is ok only for verify-full, saying what the certificate is checked against", () => {
    const verdict = judgeTls(tls("verify-full", "127.0.0.1", "db.cluster.rds.amazonaws.com"), {
      inUse: true,
      version: "TLSv1.3",
    });
    expect(verdict.verdict).toBe("ok");
    expect(verdict.summary).toBe(
      "verify-full: the certificate is checked against db.cluster.rds.amazonaws.com (CA the system's); this session: TLSv1.3",
    );
  });

  it("warns that require does not verify, and about disable on a local address or tunnel", () => {
    expect(judgeTls(tls("require", "db.example.com"), undefined)).toMatchObject({
      verdict: "warn",
      summary: expect.stringMatching(/^DB_SSL=require encrypts without verifying/) as unknown,
    });
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "::1"]) {
      expect(judgeTls(tls("disable", host), undefined).verdict, host).toBe("warn");
    }
  });

  it("fails disable on a remote host", () => {
    expect(judgeTls(tls("disable", "db.example.com"), { inUse: false, version: undefined })).toMatchObject({
      verdict: "fail",
      summary: expect.stringMatching(/^DB_SSL=disable to db\.example\.com: .* unencrypted/) as unknown,
    });
  });
});

describe("doctor's schema verdict", () => {
  it("fails on pending migrations, naming them, and is ok when none is", () => {
    const applied = { name: "0001_a", executedAt: new Date(0) };
    expect(judgeSchema([applied, { name: "0002_b", executedAt: undefined }])).toMatchObject({
      verdict: "fail",
      summary: expect.stringMatching(
        /^1 migration\(s\) pending: 0002_b; run `pnpm devrunner migrate`/,
      ) as unknown,
    });
    expect(judgeSchema([applied]).summary).toBe("current: 1 migration(s) applied, the latest 0001_a");
  });
});

const table = (name: string, overrides: Partial<RolePrivileges["tables"][number]> = {}) => ({
  table: name,
  exists: true,
  select: true,
  insert: true,
  update: true,
  owner: "migrator",
  actsAsOwner: false,
  ...overrides,
});

const leastPrivilege: RolePrivileges = {
  role: "entity_app",
  superuser: false,
  rdsSuperuser: false,
  createRole: false,
  createDatabase: false,
  schema: "public",
  createOnSchema: false,
  createOnDatabase: false,
  readsMigrations: true,
  tables: [table("entity"), table("observation"), table("outbox")],
};

describe("doctor's role verdict", () => {
  it("is ok for DML on the tables and nothing more", () => {
    expect(judgeRole(leastPrivilege)).toMatchObject({ verdict: "ok" });
  });

  it("names every DDL right and every missing privilege", () => {
    const verdict = judgeRole({
      ...leastPrivilege,
      rdsSuperuser: true,
      createOnSchema: true,
      readsMigrations: false,
      tables: [
        table("entity", { owner: "entity_app", actsAsOwner: true }),
        table("observation", { actsAsOwner: true }),
        table("outbox", { insert: false, update: false }),
      ],
    });
    expect(verdict.verdict).toBe("fail");
    expect(verdict.summary).toBe(
      "entity_app is a member of rds_superuser; owns entity (may alter or drop them); inherits migrator's ownership of observation (may alter or drop them); has CREATE on schema public; lacks insert, update on outbox; select on kysely_migration",
    );
  });

  it("cannot judge table privileges before the tables exist, but still reports DDL rights", () => {
    const missing = {
      ...leastPrivilege,
      tables: leastPrivilege.tables.map((t) => ({ ...t, exists: false })),
    };
    expect(judgeRole(missing).verdict).toBe("n/a");
    expect(judgeRole({ ...missing, superuser: true }).verdict).toBe("fail");
  });
});

describe("doctor's lines", () => {
  it("align verdict, check and summary", () => {
    expect(formatCheck({ name: "tls", verdict: "fail", summary: "x" })).toBe("FAIL  tls       x");
    expect(formatCheck({ name: "budget", verdict: "n/a", summary: "y" })).toBe("n/a   budget    y");
  });
});
