import { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  KyselyEntityStore,
  SqsDeadLetterQueue,
  SqsEventPublisher,
  SystemClock,
  assertSchemaCurrent,
  createPostgresDatabase,
  databaseSecretCredentials,
  lazySecretsManagerClient,
  lazySqsClient,
  type EntityDatabase,
  type SqsClientProvider,
} from "@entity/adapters";
import {
  createEntityService,
  type Clock,
  type DeadLetterQueue,
  type EntityService,
  type EventPublisher,
} from "@entity/domain";
import { Container } from "inversify";
import type { Kysely } from "kysely";
import { createSqsBatchHandler, type HandlerLogger, type SqsBatchHandler } from "./batch-handler.ts";
import type { LambdaConfig } from "./config.ts";

type SecretsClientProvider = () => SecretsManagerClient | Promise<SecretsManagerClient>;

/** Explicit tokens: esbuild emits no decorator metadata, so nothing is resolved by type. */
export const TOKENS = {
  config: Symbol.for("LambdaConfig"),
  logger: Symbol.for("Logger"),
  sqsClient: Symbol.for("SqsClientProvider"),
  secretsClient: Symbol.for("SecretsManagerClientProvider"),
  database: Symbol.for("Database"),
  store: Symbol.for("EntityStore"),
  publisher: Symbol.for("EventPublisher"),
  deadLetters: Symbol.for("DeadLetterQueue"),
  clock: Symbol.for("Clock"),
  service: Symbol.for("EntityService"),
  ready: Symbol.for("Ready"),
  handler: Symbol.for("SqsBatchHandler"),
} as const;

export interface LambdaOverrides {
  readonly sqsClient?: SqsClientProvider;
  readonly secretsClient?: SecretsClientProvider;
  readonly logger?: HandlerLogger;
}

/**
 * The Lambda's composition root: config in, handler out. Builds nothing that does I/O: clients and the
 * pool are made on first use, so a cold start pays only for imports.
 */
export function buildLambdaContainer(config: LambdaConfig, overrides: LambdaOverrides = {}): Container {
  const container = new Container({ defaultScope: "Singleton" });
  container.bind<LambdaConfig>(TOKENS.config).toConstantValue(config);
  container.bind<HandlerLogger>(TOKENS.logger).toConstantValue(
    overrides.logger ??
      new Logger({
        serviceName: "entity-function",
        logLevel: config.logLevel,
        persistentKeys: { env: config.env },
      }),
  );
  container.bind<SqsClientProvider>(TOKENS.sqsClient).toConstantValue(overrides.sqsClient ?? lazySqsClient());
  container
    .bind<SecretsClientProvider>(TOKENS.secretsClient)
    .toConstantValue(overrides.secretsClient ?? lazySecretsManagerClient());
  container
    .bind<Kysely<EntityDatabase>>(TOKENS.database)
    .toResolvedValue(
      (cfg: LambdaConfig, secrets: SecretsClientProvider) =>
        createPostgresDatabase(
          cfg.database,
          cfg.dbSecretArn ? { credentials: databaseSecretCredentials(cfg.dbSecretArn, secrets) } : {},
        ),
      [TOKENS.config, TOKENS.secretsClient],
    );
  container
    .bind<KyselyEntityStore>(TOKENS.store)
    .toResolvedValue((db: Kysely<EntityDatabase>) => new KyselyEntityStore(db), [TOKENS.database]);
  container
    .bind<EventPublisher>(TOKENS.publisher)
    .toResolvedValue(
      (cfg: LambdaConfig, client: SqsClientProvider) =>
        new SqsEventPublisher({ queueUrl: cfg.outboundQueueUrl, client }),
      [TOKENS.config, TOKENS.sqsClient],
    );
  container
    .bind<DeadLetterQueue>(TOKENS.deadLetters)
    .toResolvedValue(
      (cfg: LambdaConfig, client: SqsClientProvider) =>
        new SqsDeadLetterQueue({ queueUrl: cfg.dlqUrl, client }),
      [TOKENS.config, TOKENS.sqsClient],
    );
  container.bind<Clock>(TOKENS.clock).toConstantValue(new SystemClock());
  container
    .bind<EntityService>(TOKENS.service)
    .toResolvedValue(
      (store: KyselyEntityStore, publisher: EventPublisher, clock: Clock) =>
        createEntityService({ repository: store, outbox: store, publisher, clock }),
      [TOKENS.store, TOKENS.publisher, TOKENS.clock],
    );
  container
    .bind<() => Promise<void>>(TOKENS.ready)
    .toResolvedValue(
      (db: Kysely<EntityDatabase>) => memoisedUntilSuccess(() => assertSchemaCurrent(db)),
      [TOKENS.database],
    );
  container
    .bind<SqsBatchHandler>(TOKENS.handler)
    .toResolvedValue(
      (
        service: EntityService,
        deadLetters: DeadLetterQueue,
        logger: HandlerLogger,
        ready: () => Promise<void>,
      ) => createSqsBatchHandler({ service, deadLetters, logger, ready }),
      [TOKENS.service, TOKENS.deadLetters, TOKENS.logger, TOKENS.ready],
    );
  return container;
}

/** Runs `check` once it succeeds; a failure is not cached, so the next invocation checks again. */
function memoisedUntilSuccess(check: () => Promise<void>): () => Promise<void> {
  let passed: Promise<void> | undefined;
  return () => {
    passed ??= check().catch((error: unknown) => {
      passed = undefined;
      throw error;
    });
    return passed;
  };
}
