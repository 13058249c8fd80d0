import { ConfigError } from "../errors.ts";

export type DatabaseSslMode = "disable" | "require" | "verify-full";

/** Where and how to connect to Postgres. Parsed once from the environment, frozen. */
export interface DatabaseConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Undefined when the user comes with the password from elsewhere (a Secrets Manager secret). */
  readonly user: string | undefined;
  /** Undefined when the password comes from elsewhere (a Secrets Manager secret, an IAM token). */
  readonly password: string | undefined;
  /** DB_IAM_AUTH=true: the password is an IAM authentication token (TLS required). */
  readonly iamAuth: boolean;
  readonly ssl: DatabaseSslMode;
  /** Path to a CA bundle (e.g. RDS's global bundle); without it the system's CAs are trusted. */
  readonly sslCaPath: string | undefined;
  /** The name the server certificate must carry when `host` is a tunnel's local end. */
  readonly sslHost: string | undefined;
  readonly poolMax: number;
  readonly connectTimeoutMillis: number;
  /** Overrides of the server-side limits (DB_STATEMENT_TIMEOUT_MS, ...); unset ones are derived by the caller. */
  readonly sessionLimitOverrides: {
    readonly statementTimeoutMs?: number;
    readonly lockTimeoutMs?: number;
    readonly idleInTransactionTimeoutMs?: number;
  };
  /** Which variables described the target: `DATABASE_URL` or `DB_HOST`. */
  readonly source: "DATABASE_URL" | "DB_HOST";
}

type Env = Readonly<Record<string, string | undefined>>;

const SSL_MODES: readonly DatabaseSslMode[] = ["disable", "require", "verify-full"];
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** True when the environment names a Postgres database (`DATABASE_URL` or `DB_HOST`). */
export function namesDatabase(env: Env): boolean {
  return Boolean(env.DATABASE_URL?.trim() || env.DB_HOST?.trim());
}

/**
 * Reads `DATABASE_URL` or `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER`, `DB_PASSWORD`, plus `DB_SSL`
 * (`disable` | `require` | `verify-full`; default `disable` for a local host without `DB_SSL_HOST`,
 * `verify-full` otherwise), `DB_SSL_CA`, `DB_SSL_HOST`, `DB_POOL_MAX`, `DB_CONNECT_TIMEOUT_MS`,
 * `DB_IAM_AUTH`, `DB_STATEMENT_TIMEOUT_MS`, `DB_LOCK_TIMEOUT_MS`, `DB_IDLE_IN_TRANSACTION_TIMEOUT_MS`.
 * `credentialsFromSecret`: a secret supplies the password and may supply the user.
 * Errors name the variable and never contain the password.
 */
export function parseDatabaseSettings(
  env: Env,
  defaults: { poolMax?: number; credentialsFromSecret?: boolean } = {},
): DatabaseConnectionSettings {
  const url = env.DATABASE_URL?.trim();
  const { target, urlSslMode } = url
    ? parseDatabaseUrl(url, env)
    : { target: parseDatabaseVariables(env, defaults.credentialsFromSecret), urlSslMode: undefined };
  const iamAuth = parseBoolean(env, "DB_IAM_AUTH");
  checkCredentials(target, iamAuth, defaults.credentialsFromSecret);
  const sslHost = env.DB_SSL_HOST?.trim() || undefined;
  const ssl = parseSslMode(env, target.host, urlSslMode, sslHost);
  if (iamAuth && ssl === "disable") {
    throw new ConfigError(
      "DB_IAM_AUTH",
      "requires TLS: set DB_SSL=verify-full (RDS refuses IAM tokens in the clear)",
    );
  }
  const limit = (name: string): number | undefined =>
    env[name]?.trim() ? positiveInteger(env, name, 1) : undefined;
  const statementTimeoutMs = limit("DB_STATEMENT_TIMEOUT_MS");
  const lockTimeoutMs = limit("DB_LOCK_TIMEOUT_MS");
  const idleInTransactionTimeoutMs = limit("DB_IDLE_IN_TRANSACTION_TIMEOUT_MS");
  return Object.freeze({
    ...target,
    iamAuth,
    ssl,
    sslCaPath: env.DB_SSL_CA?.trim() || undefined,
    sslHost,
    poolMax: positiveInteger(env, "DB_POOL_MAX", defaults.poolMax ?? 1),
    connectTimeoutMillis: positiveInteger(env, "DB_CONNECT_TIMEOUT_MS", 5000),
    sessionLimitOverrides: Object.freeze({
      ...(statementTimeoutMs ? { statementTimeoutMs } : {}),
      ...(lockTimeoutMs ? { lockTimeoutMs } : {}),
      ...(idleInTransactionTimeoutMs ? { idleInTransactionTimeoutMs } : {}),
    }),
  });
}

type DatabaseTargetSettings = Pick<
  DatabaseConnectionSettings,
  "host" | "port" | "database" | "user" | "password" | "source"
>;

function parseDatabaseUrl(
  url: string,
  env: Env,
): { target: DatabaseTargetSettings; urlSslMode: string | undefined } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      "DATABASE_URL",
      "is not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new ConfigError(
      "DATABASE_URL",
      `scheme must be postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ""));
  if (!parsed.hostname) throw new ConfigError("DATABASE_URL", "has no host");
  if (!database) throw new ConfigError("DATABASE_URL", "has no database name (the path after the host)");
  if (!parsed.username) throw new ConfigError("DATABASE_URL", "has no user");
  return {
    target: {
      host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: parsed.port ? parsePort("DATABASE_URL", parsed.port) : 5432,
      database,
      user: decodeURIComponent(parsed.username),
      password: parsed.password ? decodeURIComponent(parsed.password) : env.DB_PASSWORD || undefined,
      source: "DATABASE_URL",
    },
    urlSslMode: parsed.searchParams.get("sslmode") ?? undefined,
  };
}

function parseDatabaseVariables(
  env: Env,
  credentialsFromSecret: boolean | undefined,
): DatabaseTargetSettings {
  return {
    host: required(env, "DB_HOST"),
    port: env.DB_PORT?.trim() ? parsePort("DB_PORT", env.DB_PORT.trim()) : 5432,
    database: required(env, "DB_NAME"),
    user: credentialsFromSecret ? env.DB_USER?.trim() || undefined : required(env, "DB_USER"),
    password: env.DB_PASSWORD || undefined,
    source: "DB_HOST",
  };
}

/** A password, a secret or an IAM token: exactly one of them, and IAM needs a user to sign for. */
function checkCredentials(
  target: DatabaseTargetSettings,
  iamAuth: boolean,
  credentialsFromSecret: boolean | undefined,
): void {
  if (iamAuth) {
    if (credentialsFromSecret)
      throw new ConfigError(
        "DB_IAM_AUTH",
        "and DB_SECRET_ARN are both set; an IAM token or a secret, not both",
      );
    if (target.password !== undefined)
      throw new ConfigError(
        "DB_IAM_AUTH",
        "is set, so DB_PASSWORD must not be: the password is an IAM token",
      );
    if (!target.user)
      throw new ConfigError("DB_USER", "is not set (DB_IAM_AUTH signs a token for this user)");
  }
  if (target.password === undefined && !credentialsFromSecret && !iamAuth) {
    throw new ConfigError("DB_PASSWORD", "is not set (nor is a password given in DATABASE_URL)");
  }
}

/** DB_SSL, else the URL's sslmode, else disable for a local host (without DB_SSL_HOST), verify-full otherwise. */
function parseSslMode(
  env: Env,
  host: string,
  urlSslMode: string | undefined,
  sslHost: string | undefined,
): DatabaseSslMode {
  const sslVariable = env.DB_SSL?.trim() ? "DB_SSL" : "DATABASE_URL";
  const sslText = env.DB_SSL?.trim() || urlSslMode;
  const defaultSsl: DatabaseSslMode = LOCAL_HOSTS.has(host) && !sslHost ? "disable" : "verify-full";
  const ssl = sslText === undefined ? defaultSsl : (sslText as DatabaseSslMode);
  if (!SSL_MODES.includes(ssl)) {
    throw new ConfigError(
      sslVariable,
      `${sslVariable === "DB_SSL" ? "" : "sslmode "}must be one of ${SSL_MODES.join(", ")}, not '${sslText}'`,
    );
  }
  if (sslHost && ssl !== "verify-full") {
    throw new ConfigError("DB_SSL_HOST", `only applies with DB_SSL=verify-full (DB_SSL is ${ssl})`);
  }
  return ssl;
}

function parseBoolean(env: Env, name: string): boolean {
  const text = env[name]?.trim().toLowerCase();
  if (!text || text === "false" || text === "0") return false;
  if (text === "true" || text === "1") return true;
  throw new ConfigError(name, `must be true or false, not '${env[name]}'`);
}

/** The target for people to read: never the password. */
export function describeDatabaseTarget(settings: DatabaseConnectionSettings): string {
  const ssl =
    settings.ssl === "verify-full" && settings.sslHost ? `verify-full as ${settings.sslHost}` : settings.ssl;
  const user = settings.user ?? "(user from the secret)";
  const auth = settings.iamAuth ? ", IAM token" : "";
  return `postgres ${user}@${settings.host}:${settings.port}/${settings.database} (ssl ${ssl}${auth})`;
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, "is not set");
  return value;
}

function parsePort(variable: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new ConfigError(variable, `port must be a whole number from 1 to 65535, not '${text}'`);
  }
  return port;
}

function positiveInteger(env: Env, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1)
    throw new ConfigError(name, `must be a positive whole number, not '${text}'`);
  return value;
}
