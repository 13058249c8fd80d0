import { parseMigrationConfig } from "./config.ts";
import {
  createCustomResourceHandler,
  type CustomResourceProvider,
  type ResponseLogger,
} from "./custom-resource.ts";
import { buildMigrationContainer, MIGRATION_TOKENS } from "./migration-container.ts";

// MigrationFunction, run by the stack's Custom::SchemaMigration resource. Config is parsed once, at init,
// but a bad variable must not fail the init (CloudFormation would wait an hour for an answer): the
// handler answers FAILED, naming the variable.
export const handler = createCustomResourceHandler(() => {
  const container = buildMigrationContainer(parseMigrationConfig(process.env));
  return {
    provider: container.get<CustomResourceProvider>(MIGRATION_TOKENS.schemaMigration),
    logger: container.get<ResponseLogger>(MIGRATION_TOKENS.logger),
  };
});
