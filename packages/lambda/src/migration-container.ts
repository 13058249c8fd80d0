import { Logger } from "@aws-lambda-powertools/logger";
import { createPostgresDatabase, describeDatabaseTarget, lazySecretsManagerClient } from "@entity/adapters";
import type { Container } from "inversify";
import { rootContainer } from "@entity/adapters/wiring";
import type { Kysely } from "kysely";
import type { MigrationConfig } from "./config.ts";
import { credentialsFor, type SecretsClientProvider } from "./database-credentials.ts";
import type { CustomResourceProvider, ResponseLogger } from "./custom-resource.ts";
import { createSchemaMigration } from "./schema-migration.ts";

/** Explicit tokens: esbuild emits no decorator metadata, so nothing is resolved by type. */
export const MIGRATION_TOKENS = {
  config: Symbol.for("MigrationConfig"),
  logger: Symbol.for("MigrationLogger"),
  secretsClient: Symbol.for("MigrationSecretsManagerClientProvider"),
  openDatabase: Symbol.for("MigrationDatabaseFactory"),
  schemaMigration: Symbol.for("SchemaMigration"),
} as const;

export interface MigrationOverrides {
  readonly secretsClient?: SecretsClientProvider;
  readonly logger?: ResponseLogger;
}

/**
 * MigrationFunction's composition root: config in, the `Custom::SchemaMigration` provider out. Connects
 * under the migration function's own credentials (its DB_SECRET_ARN, or DB_USER / DB_PASSWORD), never
 * EntityFunction's. A connection is opened per request (the secret is read then), not kept between deploys.
 */
export function buildMigrationContainer(
  config: MigrationConfig,
  overrides: MigrationOverrides = {},
): Container {
  const container = rootContainer();
  container.bind<MigrationConfig>(MIGRATION_TOKENS.config).toConstantValue(config);
  container.bind<ResponseLogger>(MIGRATION_TOKENS.logger).toConstantValue(
    overrides.logger ??
      new Logger({
        serviceName: "migration-function",
        logLevel: config.logLevel,
        persistentKeys: { env: config.env },
      }),
  );
  container
    .bind<SecretsClientProvider>(MIGRATION_TOKENS.secretsClient)
    .toConstantValue(overrides.secretsClient ?? lazySecretsManagerClient());
  container.bind<() => Kysely<unknown>>(MIGRATION_TOKENS.openDatabase).toResolvedValue(
    (cfg: MigrationConfig, secrets: SecretsClientProvider) => () => {
      const credentials = credentialsFor(cfg, secrets);
      return createPostgresDatabase(cfg.database, {
        ...(credentials ? { credentials } : {}),
        applicationName: cfg.functionName,
      }).db as Kysely<unknown>;
    },
    [MIGRATION_TOKENS.config, MIGRATION_TOKENS.secretsClient],
  );
  container.bind<CustomResourceProvider>(MIGRATION_TOKENS.schemaMigration).toResolvedValue(
    (cfg: MigrationConfig, openDatabase: () => Kysely<unknown>) =>
      createSchemaMigration({
        openDatabase,
        databaseName: cfg.database.database,
        target: describeDatabaseTarget(
          cfg.dbSecretArn ? { ...cfg.database, user: "[user from DB_SECRET_ARN]" } : cfg.database,
        ),
        secrets: cfg.database.password ? [cfg.database.password] : [],
      }),
    [MIGRATION_TOKENS.config, MIGRATION_TOKENS.openDatabase],
  );
  return container;
}
