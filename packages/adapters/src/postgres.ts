// Postgres adapters (Kysely + pg), without the AWS SDK: what the devrunner loads to reach a database.
export { AdapterError, ConfigError, SchemaNotCurrentError } from "./errors.ts";
export {
  describeDatabaseTarget,
  namesDatabase,
  parseDatabaseSettings,
  type DatabaseConnectionSettings,
  type DatabaseSslMode,
} from "./postgres/connection-config.ts";
export {
  cachedCredentials,
  fixedCredentials,
  type CredentialSource,
  type DatabaseCredentials,
} from "./postgres/credentials.ts";
export {
  createPostgresDatabase,
  pgPoolConfig,
  type PostgresDatabase,
  type PostgresDatabaseOptions,
  type SessionLimits,
} from "./postgres/database.ts";
export { KyselyEntityStore } from "./postgres/kysely-entity-store.ts";
export { KyselyOutbox } from "./postgres/kysely-outbox.ts";
export {
  assertSchemaCurrent,
  migrateToLatest,
  migrationStatus,
  type MigrationStatus,
} from "./postgres/migrate.ts";
export { migrations } from "./postgres/migrations/index.ts";
export type { EntityDatabase } from "./postgres/schema.ts";
export {
  FUNCTION_TABLES,
  readConnectionCapacity,
  readRolePrivileges,
  readServerIdentity,
  type ConnectionCapacity,
  type RolePrivileges,
  type ServerIdentity,
  type TablePrivileges,
} from "./postgres/server-inspection.ts";
