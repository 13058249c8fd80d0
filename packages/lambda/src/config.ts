import { ConfigError, parseDatabaseSettings, type DatabaseConnectionSettings } from "@entity/adapters";

export const LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SILENT"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every function of this package reads: where it runs, how much it logs, its database. */
export interface DatabaseFunctionConfig {
  /** Deployment environment name (dev, staging, prod, ...). */
  readonly env: string;
  readonly logLevel: LogLevel;
  readonly database: DatabaseConnectionSettings;
  /** Secrets Manager secret holding the database `username` / `password`; instead of DB_PASSWORD. */
  readonly dbSecretArn: string | undefined;
  /** How long the secret is trusted before new connections fetch it again (a rotation is picked up). */
  readonly secretMaxAgeMs: number;
  /** AWS_REGION, which Lambda sets (IAM database tokens are signed for it). */
  readonly region: string;
  /** AWS_LAMBDA_FUNCTION_NAME, which Lambda sets: the database sessions' application_name. */
  readonly functionName: string;
}

/** What EntityFunction and OutboxRelayFunction read from their environment, parsed once at init and frozen. */
export interface LambdaConfig extends DatabaseFunctionConfig {
  readonly outboundQueueUrl: string;
  /** EntityFunction only: where records that can never succeed go. */
  readonly dlqUrl: string | undefined;
  /** Failed publish attempts before an event is parked (it then waits for a redrive). */
  readonly outboxMaxAttempts: number;
}

/** MigrationFunction's config: its own database credentials (a DDL role), no queues. */
export type MigrationConfig = DatabaseFunctionConfig;

/** The variables the migration function reads, for checking the template declares each. */
export const MIGRATION_ENV_VARIABLES = [
  "ENV",
  "LOG_LEVEL",
  "DATABASE_URL",
  "DB_HOST",
  "DB_PORT",
  "DB_NAME",
  "DB_USER",
  "DB_PASSWORD",
  "DB_SECRET_ARN",
  "DB_SSL",
  "DB_SSL_CA",
  "DB_SSL_HOST",
  "DB_POOL_MAX",
  "DB_CONNECT_TIMEOUT_MS",
  "DB_IAM_AUTH",
  "DB_SECRET_MAX_AGE_S",
  "DB_STATEMENT_TIMEOUT_MS",
  "DB_LOCK_TIMEOUT_MS",
  "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
] as const;

/** The variables EntityFunction reads, for checking the template declares each (see template.yaml). */
export const LAMBDA_ENV_VARIABLES = [
  ...MIGRATION_ENV_VARIABLES,
  "OUTBOUND_QUEUE_URL",
  "DLQ_URL",
  "OUTBOX_MAX_ATTEMPTS",
] as const;

type Env = Readonly<Record<string, string | undefined>>;

/** EntityFunction's config: everything, DLQ_URL included. */
export function parseLambdaConfig(env: Env): LambdaConfig {
  return Object.freeze({ ...parseQueueFunctionConfig(env), dlqUrl: queueUrl(env, "DLQ_URL") });
}

/** The outbox relay function's config: the same, without a dead-letter queue. */
export function parseRelayConfig(env: Env): LambdaConfig {
  return Object.freeze(parseQueueFunctionConfig(env));
}

export function parseMigrationConfig(env: Env): MigrationConfig {
  return Object.freeze(parseDatabaseFunctionConfig(env));
}

function parseQueueFunctionConfig(env: Env): LambdaConfig {
  return {
    ...parseDatabaseFunctionConfig(env),
    outboundQueueUrl: queueUrl(env, "OUTBOUND_QUEUE_URL"),
    dlqUrl: undefined,
    outboxMaxAttempts: wholeNumber(env, "OUTBOX_MAX_ATTEMPTS", 5, { min: 1, max: 100 }),
  };
}

function parseDatabaseFunctionConfig(env: Env): DatabaseFunctionConfig {
  const envName = env.ENV?.trim();
  if (!envName) throw new ConfigError("ENV", "is not set (e.g. dev, staging, prod)");
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(envName)) {
    throw new ConfigError("ENV", `must be lowercase letters, digits and '-', not '${envName}'`);
  }
  const logLevelText = (env.LOG_LEVEL?.trim() || "INFO").toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevelText)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, not '${env.LOG_LEVEL}'`);
  }
  const dbSecretArn = env.DB_SECRET_ARN?.trim() || undefined;
  if (
    dbSecretArn !== undefined &&
    !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(dbSecretArn)
  ) {
    throw new ConfigError(
      "DB_SECRET_ARN",
      "is not a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)",
    );
  }
  if (dbSecretArn !== undefined && env.DB_PASSWORD) {
    throw new ConfigError("DB_SECRET_ARN", "and DB_PASSWORD are both set; set only one");
  }
  const database = parseDatabaseSettings(env, {
    poolMax: 1,
    credentialsFromSecret: dbSecretArn !== undefined,
  });
  return {
    env: envName,
    logLevel: logLevelText as LogLevel,
    database,
    dbSecretArn,
    secretMaxAgeMs: wholeNumber(env, "DB_SECRET_MAX_AGE_S", 300, { min: 0, max: 86_400 }) * 1000,
    region: env.AWS_REGION?.trim() || "us-east-1",
    functionName: env.AWS_LAMBDA_FUNCTION_NAME?.trim() || "entity-function",
  };
}

function wholeNumber(env: Env, name: string, fallback: number, range: { min: number; max: number }): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < range.min || value > range.max) {
    throw new ConfigError(name, `must be a whole number from ${range.min} to ${range.max}, not '${text}'`);
  }
  return value;
}

function queueUrl(env: Env, name: string): string {
  const text = env[name]?.trim();
  if (!text) throw new ConfigError(name, "is not set (an SQS queue URL)");
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(name, `is not a URL: '${text}'`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new ConfigError(name, `must be an http(s) SQS queue URL, not '${text}'`);
  if (url.pathname.split("/").filter(Boolean).length < 2) {
    throw new ConfigError(name, `is not a queue URL (expected .../ACCOUNT/QUEUE_NAME): '${text}'`);
  }
  return text;
}
