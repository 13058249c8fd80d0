import { ConfigError } from "@entity/adapters";
import { describe, expect, it } from "vitest";
import { parseLambdaConfig, parseMigrationConfig, parseRelayConfig } from "./config.ts";

const SECRET = "Sup3r-S3cret!";
const VALID = {
  ENV: "dev",
  DB_HOST: "mydb.cluster-abc.eu-west-1.rds.amazonaws.com",
  DB_NAME: "entities",
  DB_USER: "app",
  DB_PASSWORD: SECRET,
  OUTBOUND_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/outbound",
  DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/entity-dlq",
};

function failure(env: Record<string, string | undefined>): ConfigError {
  try {
    parseLambdaConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("parseLambdaConfig", () => {
  it("parses a valid environment once into a frozen object", () => {
    const config = parseLambdaConfig(VALID);
    expect(config).toMatchObject({ env: "dev", logLevel: "INFO", dbSecretArn: undefined });
    expect(config.database).toMatchObject({ host: VALID.DB_HOST, ssl: "verify-full", poolMax: 1 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("takes DB_SECRET_ARN instead of DB_PASSWORD, and then needs no DB_USER", () => {
    const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:entity-db-AbCdEf";
    const config = parseLambdaConfig({ ...VALID, DB_PASSWORD: "", DB_USER: "", DB_SECRET_ARN: arn });
    expect(config.dbSecretArn).toBe(arn);
    expect(config.database.password).toBeUndefined();
    expect(config.database.user).toBeUndefined();
    expect(config.secretMaxAgeMs).toBe(300_000);
  });

  it("reads the relay function's config without a dead-letter queue", () => {
    const config = parseRelayConfig({ ...VALID, DLQ_URL: undefined, OUTBOX_MAX_ATTEMPTS: "8" });
    expect(config).toMatchObject({ dlqUrl: undefined, outboxMaxAttempts: 8 });
  });

  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ["ENV", { ENV: undefined }, /is not set/],
    ["ENV", { ENV: "Prod!" }, /lowercase letters/],
    ["LOG_LEVEL", { LOG_LEVEL: "LOUD" }, /must be one of TRACE, DEBUG/],
    ["DB_HOST", { DB_HOST: undefined }, /is not set/],
    ["DB_PORT", { DB_PORT: "five" }, /not 'five'/],
    ["DB_NAME", { DB_NAME: "" }, /is not set/],
    ["DB_USER", { DB_USER: undefined }, /is not set/],
    ["DB_PASSWORD", { DB_PASSWORD: undefined }, /is not set/],
    ["DB_SSL", { DB_SSL: "yes" }, /must be one of/],
    [
      "DB_SECRET_ARN",
      { DB_PASSWORD: undefined, DB_SECRET_ARN: "entity-db" },
      /not a Secrets Manager secret ARN/,
    ],
    [
      "DB_SECRET_ARN",
      { DB_SECRET_ARN: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x" },
      /both set/,
    ],
    ["OUTBOUND_QUEUE_URL", { OUTBOUND_QUEUE_URL: undefined }, /is not set/],
    ["OUTBOUND_QUEUE_URL", { OUTBOUND_QUEUE_URL: "outbound" }, /is not a URL/],
    ["DLQ_URL", { DLQ_URL: "ftp://x/1/q" }, /http\(s\)/],
    ["DLQ_URL", { DLQ_URL: "https://sqs.eu-west-1.amazonaws.com/" }, /not a queue URL/],
    ["DB_SECRET_MAX_AGE_S", { DB_SECRET_MAX_AGE_S: "soon" }, /whole number from 0 to 86400/],
    ["OUTBOX_MAX_ATTEMPTS", { OUTBOX_MAX_ATTEMPTS: "0" }, /whole number from 1 to 100/],
    ["DB_IAM_AUTH", { DB_IAM_AUTH: "true" }, /DB_PASSWORD must not be/],
  ];
  it.each(cases)("names %s when it is missing or malformed (%j)", (variable, change, problem) => {
    const error = failure({ ...VALID, ...change });
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(problem);
    expect(error.message).not.toContain(SECRET);
  });
});

describe("parseMigrationConfig", () => {
  it("reads the same database variables, with no queue URLs, into a frozen object", () => {
    const { OUTBOUND_QUEUE_URL: _outbound, DLQ_URL: _dlq, ...migrationEnv } = VALID;
    const config = parseMigrationConfig(migrationEnv);
    expect(config).toEqual({
      env: "dev",
      logLevel: "INFO",
      database: parseLambdaConfig(VALID).database,
      dbSecretArn: undefined,
      secretMaxAgeMs: 300_000,
      region: "us-east-1",
      functionName: "entity-function",
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => parseMigrationConfig({ ...migrationEnv, DB_PORT: "x" })).toThrow(/^DB_PORT: /);
  });
});
