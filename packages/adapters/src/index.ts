export { ManualClock, SystemClock } from "./memory/clocks.ts";
export {
  InMemoryEntityStore,
  type InMemoryEntityStoreOptions,
  type InMemoryWrite,
} from "./memory/in-memory-entity-store.ts";
export { InMemoryEventPublisher } from "./memory/in-memory-event-publisher.ts";
export { AdapterError, ConfigError, SchemaNotCurrentError } from "./errors.ts";
export {
  describeDatabaseTarget,
  namesDatabase,
  parseDatabaseSettings,
  type DatabaseConnectionSettings,
  type DatabaseSslMode,
} from "./postgres/connection-config.ts";
export { createPostgresDatabase, pgPoolConfig, type DatabaseCredentials } from "./postgres/database.ts";
export { KyselyEntityStore } from "./postgres/kysely-entity-store.ts";
export {
  assertSchemaCurrent,
  migrateToLatest,
  migrationStatus,
  type MigrationStatus,
} from "./postgres/migrate.ts";
export { migrations } from "./postgres/migrations/index.ts";
export type { EntityDatabase } from "./postgres/schema.ts";
export {
  SqsEventPublisher,
  lazySqsClient,
  type SqsEventPublisherOptions,
} from "./sqs/sqs-event-publisher.ts";
export { SqsDeadLetterQueue } from "./sqs/sqs-dead-letter-queue.ts";
export { SQS_MAX_BATCH_ENTRIES, SQS_MAX_MESSAGE_BYTES } from "./sqs/send-batches.ts";
export { InMemoryDeadLetterQueue } from "./memory/in-memory-dead-letter-queue.ts";
export { databaseSecretCredentials, lazySecretsManagerClient } from "./aws/database-secret.ts";
