import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors.ts";
import { describeDatabaseTarget, namesDatabase, parseDatabaseSettings } from "./connection-config.ts";
import { pgPoolConfig } from "./database.ts";

const SECRET = "s3cr3t-P@ss";

function configError(env: Record<string, string>): ConfigError {
  try {
    parseDatabaseSettings(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("parseDatabaseSettings", () => {
  it("reads the DB_* variables of a tunnelled RDS and defaults to verify-full with DB_SSL_HOST", () => {
    const settings = parseDatabaseSettings({
      DB_HOST: "127.0.0.1",
      DB_PORT: "54321",
      DB_NAME: "entities",
      DB_USER: "app",
      DB_PASSWORD: SECRET,
      DB_SSL_HOST: "mydb.cluster-abc.eu-west-1.rds.amazonaws.com",
      DB_SSL_CA: "/certs/global-bundle.pem",
    });
    expect(settings).toMatchObject({
      host: "127.0.0.1",
      port: 54321,
      database: "entities",
      user: "app",
      password: SECRET,
      ssl: "verify-full",
      sslHost: "mydb.cluster-abc.eu-west-1.rds.amazonaws.com",
      sslCaPath: "/certs/global-bundle.pem",
      poolMax: 1,
      source: "DB_HOST",
    });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(describeDatabaseTarget(settings)).toBe(
      "postgres app@127.0.0.1:54321/entities (ssl verify-full as mydb.cluster-abc.eu-west-1.rds.amazonaws.com)",
    );
  });

  it("reads DATABASE_URL, with sslmode, and decodes escaped parts", () => {
    const settings = parseDatabaseSettings({
      DATABASE_URL: `postgres://app%40x:${encodeURIComponent(SECRET)}@db.example.com:6543/my%20db?sslmode=require`,
    });
    expect(settings).toMatchObject({
      host: "db.example.com",
      port: 6543,
      database: "my db",
      user: "app@x",
      password: SECRET,
      ssl: "require",
      source: "DATABASE_URL",
    });
  });

  it("defaults to no TLS on a local host and to verify-full elsewhere", () => {
    const base = { DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p" };
    expect(parseDatabaseSettings({ ...base, DB_HOST: "localhost" }).ssl).toBe("disable");
    expect(parseDatabaseSettings({ ...base, DB_HOST: "mydb.rds.amazonaws.com" }).ssl).toBe("verify-full");
  });

  it.each([
    [{ DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_HOST: " " }, "DB_HOST", /is not set/],
    [{ DB_HOST: "h", DB_USER: "u", DB_PASSWORD: "p" }, "DB_NAME", /is not set/],
    [{ DB_HOST: "h", DB_NAME: "d", DB_PASSWORD: "p" }, "DB_USER", /is not set/],
    [{ DB_HOST: "h", DB_NAME: "d", DB_USER: "u" }, "DB_PASSWORD", /is not set/],
    [{ DB_HOST: "h", DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_PORT: "54x" }, "DB_PORT", /not '54x'/],
    [
      { DB_HOST: "h", DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_PORT: "70000" },
      "DB_PORT",
      /1 to 65535/,
    ],
    [
      { DB_HOST: "h", DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_SSL: "on" },
      "DB_SSL",
      /disable, require, verify-full, not 'on'/,
    ],
    [
      { DB_HOST: "h", DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_SSL: "require", DB_SSL_HOST: "x" },
      "DB_SSL_HOST",
      /verify-full/,
    ],
    [
      { DB_HOST: "h", DB_NAME: "d", DB_USER: "u", DB_PASSWORD: "p", DB_POOL_MAX: "0" },
      "DB_POOL_MAX",
      /positive whole number/,
    ],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL", /is not a URL/],
    [{ DATABASE_URL: `mysql://u:${SECRET}@h/d` }, "DATABASE_URL", /scheme/],
    [{ DATABASE_URL: `postgres://u:${SECRET}@h` }, "DATABASE_URL", /no database name/],
    [{ DATABASE_URL: `postgres://u:${SECRET}@h/d?sslmode=prefer` }, "DATABASE_URL", /sslmode must be one of/],
  ])("rejects %j naming %s", (env, variable, problem) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.message).toMatch(new RegExp(`^${variable}: `));
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain(SECRET);
  });

  it("lets the caller make the password optional (it may come from a secret)", () => {
    expect(
      parseDatabaseSettings({ DB_HOST: "h", DB_NAME: "d", DB_USER: "u" }, { credentialsFromSecret: true })
        .password,
    ).toBeUndefined();
  });

  it("needs no DB_USER when a secret supplies the credentials", () => {
    const settings = parseDatabaseSettings({ DB_HOST: "h", DB_NAME: "d" }, { credentialsFromSecret: true });
    expect(settings.user).toBeUndefined();
    expect(describeDatabaseTarget(settings)).toContain("(user from the secret)@h:5432/d");
  });

  it("takes DB_IAM_AUTH=true with TLS and a user, and refuses it without TLS, with a password or a secret", () => {
    const base = { DB_HOST: "db.example.com", DB_NAME: "d", DB_USER: "app", DB_IAM_AUTH: "true" };
    const settings = parseDatabaseSettings(base);
    expect(settings).toMatchObject({ iamAuth: true, ssl: "verify-full", password: undefined });
    expect(describeDatabaseTarget(settings)).toContain("IAM token");
    expect(() => parseDatabaseSettings({ ...base, DB_SSL: "disable" })).toThrow(/^DB_IAM_AUTH: requires TLS/);
    expect(() => parseDatabaseSettings({ ...base, DB_PASSWORD: "p" })).toThrow(/^DB_IAM_AUTH: .*DB_PASSWORD/);
    expect(() => parseDatabaseSettings(base, { credentialsFromSecret: true })).toThrow(
      /^DB_IAM_AUTH: .*DB_SECRET_ARN/,
    );
    expect(() => parseDatabaseSettings({ ...base, DB_USER: "" })).toThrow(/^DB_USER: /);
    expect(() => parseDatabaseSettings({ ...base, DB_IAM_AUTH: "yes" })).toThrow(
      /^DB_IAM_AUTH: must be true or false/,
    );
  });

  it("reads session limit overrides and leaves the unset ones to the caller", () => {
    const settings = parseDatabaseSettings({
      DATABASE_URL: "postgres://u:p@h/d",
      DB_LOCK_TIMEOUT_MS: "2500",
    });
    expect(settings.sessionLimitOverrides).toEqual({ lockTimeoutMs: 2500 });
    expect(() =>
      parseDatabaseSettings({ DATABASE_URL: "postgres://u:p@h/d", DB_STATEMENT_TIMEOUT_MS: "-1" }),
    ).toThrow(/^DB_STATEMENT_TIMEOUT_MS: must be a positive whole number/);
  });

  it("tells whether the environment names a database at all", () => {
    expect(namesDatabase({})).toBe(false);
    expect(namesDatabase({ DB_HOST: "h" })).toBe(true);
    expect(namesDatabase({ DATABASE_URL: "postgres://u@h/d" })).toBe(true);
  });
});

describe("pgPoolConfig", () => {
  it("turns verify-full with DB_SSL_HOST into a TLS check against that name, never disabling verification", () => {
    const settings = parseDatabaseSettings({
      DB_HOST: "127.0.0.1",
      DB_NAME: "d",
      DB_USER: "u",
      DB_PASSWORD: "p",
      DB_SSL_HOST: "mydb.example.com",
    });
    const ssl = pgPoolConfig(settings).ssl as { rejectUnauthorized: boolean; servername: string };
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.servername).toBe("mydb.example.com");
  });

  it("names DB_SSL_CA when the bundle cannot be read", () => {
    const settings = parseDatabaseSettings({
      DB_HOST: "db.example.com",
      DB_NAME: "d",
      DB_USER: "u",
      DB_PASSWORD: "p",
      DB_SSL_CA: "/nonexistent/bundle.pem",
    });
    expect(() => pgPoolConfig(settings)).toThrow(/^DB_SSL_CA: cannot read \/nonexistent\/bundle.pem/);
  });
});
