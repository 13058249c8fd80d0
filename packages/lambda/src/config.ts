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
}

/** Everything EntityFunction reads from its environment, parsed once at init and frozen. */
export interface LambdaConfig extends DatabaseFunctionConfig {
  readonly outboundQueueUrl: string;
  readonly dlqUrl: string;
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
] as const;

/** The variables EntityFunction reads, for checking the template declares each (see template.yaml). */
export const LAMBDA_ENV_VARIABLES = [...MIGRATION_ENV_VARIABLES, "OUTBOUND_QUEUE_URL", "DLQ_URL"] as const;

type Env = Readonly<Record<string, string | undefined>>;

export function parseLambdaConfig(env: Env): LambdaConfig {
  return Object.freeze({
    ...parseDatabaseFunctionConfig(env),
    outboundQueueUrl: queueUrl(env, "OUTBOUND_QUEUE_URL"),
    dlqUrl: queueUrl(env, "DLQ_URL"),
  });
}

export function parseMigrationConfig(env: Env): MigrationConfig {
  return Object.freeze(parseDatabaseFunctionConfig(env));
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
  const database = parseDatabaseSettings(env, { poolMax: 1, passwordOptional: dbSecretArn !== undefined });
  return { env: envName, logLevel: logLevelText as LogLevel, database, dbSecretArn };
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
