import { Logger } from "@aws-lambda-powertools/logger";
import {
  SqsDeadLetterQueue,
  SqsEventPublisher,
  SystemClock,
  assertSchemaCurrent,
  createPostgresDatabase,
  lazySecretsManagerClient,
  lazySqsClient,
  type CredentialSource,
  type PostgresDatabase,
  type EntityDatabase,
  type SqsClientProvider,
} from "@entity/adapters";
import { PORTS, entityServiceModule, kyselyStoreModule, rootContainer } from "@entity/adapters/wiring";
import {
  DEFAULT_OUTBOX_POLICY,
  type Clock,
  type DeadLetterQueue,
  type EntityService,
  type EventPublisher,
  type OutboxPolicy,
} from "@entity/domain";
import type { Container } from "inversify";
import type { Kysely } from "kysely";
import { createSqsBatchHandler, type SqsBatchHandler } from "./batch-handler.ts";
import type { LambdaConfig } from "./config.ts";
import { credentialsFor, type SecretsClientProvider } from "./database-credentials.ts";
import type { HandlerLogger } from "./logger.ts";
import { createRelayHandler, type RelayHandler } from "./relay-handler.ts";
import { FunctionTimeout, functionSessionLimits } from "./session-limits.ts";

/**
 * Explicit tokens (esbuild emits no decorator metadata, so nothing is resolved by type): the ports'
 * shared ones (PORTS, @entity/adapters/wiring) and the Lambda's own.
 */
export const TOKENS = {
  ...PORTS,
  config: Symbol.for("LambdaConfig"),
  logger: Symbol.for("Logger"),
  sqsClient: Symbol.for("SqsClientProvider"),
  secretsClient: Symbol.for("SecretsManagerClientProvider"),
  credentials: Symbol.for("CredentialSource"),
  functionTimeout: Symbol.for("FunctionTimeout"),
  postgres: Symbol.for("PostgresDatabase"),
  schemaCheck: Symbol.for("SchemaCheck"),
  handler: Symbol.for("SqsBatchHandler"),
  relayHandler: Symbol.for("RelayHandler"),
} as const;

export interface LambdaOverrides {
  readonly sqsClient?: SqsClientProvider;
  readonly secretsClient?: SecretsClientProvider;
  readonly logger?: HandlerLogger;
}

/**
 * The Lambda's composition root: config in, handlers out (the SQS batch handler and the scheduled relay;
 * each entry point asks for its own). Builds nothing that does I/O: clients and the pool are made on first
 * use, so a cold start pays only for imports.
 */
export function buildLambdaContainer(config: LambdaConfig, overrides: LambdaOverrides = {}): Container {
  const container = rootContainer();
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
  bindDatabase(container);
  bindMessaging(container);
  container.bind<Clock>(TOKENS.clock).toConstantValue(new SystemClock());
  container.bind<OutboxPolicy>(TOKENS.outboxPolicy).toConstantValue({
    ...DEFAULT_OUTBOX_POLICY,
    maxAttempts: config.outboxMaxAttempts,
  });
  container.load(kyselyStoreModule, entityServiceModule);
  bindHandlers(container);
  return container;
}

function bindDatabase(container: Container): void {
  container.bind<FunctionTimeout>(TOKENS.functionTimeout).toConstantValue(new FunctionTimeout());
  container
    .bind<CredentialSource | undefined>(TOKENS.credentials)
    .toResolvedValue(
      (cfg: LambdaConfig, secrets: SecretsClientProvider) => credentialsFor(cfg, secrets),
      [TOKENS.config, TOKENS.secretsClient],
    );
  container.bind<PostgresDatabase>(TOKENS.postgres).toResolvedValue(
    (cfg: LambdaConfig, credentials: CredentialSource | undefined, timeout: FunctionTimeout) =>
      createPostgresDatabase(cfg.database, {
        ...(credentials ? { credentials } : {}),
        sessionLimits: () => functionSessionLimits(cfg.database, timeout.ms),
        applicationName: cfg.functionName,
      }),
    [TOKENS.config, TOKENS.credentials, TOKENS.functionTimeout],
  );
  container
    .bind<Kysely<EntityDatabase>>(TOKENS.database)
    .toResolvedValue((postgres: PostgresDatabase) => postgres.db, [TOKENS.postgres]);
  container
    .bind<() => Promise<void>>(TOKENS.schemaCheck)
    .toResolvedValue(
      (db: Kysely<EntityDatabase>) => memoisedUntilSuccess(() => assertSchemaCurrent(db)),
      [TOKENS.database],
    );
}

function bindMessaging(container: Container): void {
  container
    .bind<EventPublisher>(TOKENS.publisher)
    .toResolvedValue(
      (cfg: LambdaConfig, client: SqsClientProvider) =>
        new SqsEventPublisher({ queueUrl: cfg.outboundQueueUrl, client }),
      [TOKENS.config, TOKENS.sqsClient],
    );
  container.bind<DeadLetterQueue>(TOKENS.deadLetters).toResolvedValue(
    (cfg: LambdaConfig, client: SqsClientProvider) => {
      if (!cfg.dlqUrl) throw new Error("this function's config has no DLQ_URL: it cannot set records aside");
      return new SqsDeadLetterQueue({ queueUrl: cfg.dlqUrl, client });
    },
    [TOKENS.config, TOKENS.sqsClient],
  );
}

function bindHandlers(container: Container): void {
  container.bind<SqsBatchHandler>(TOKENS.handler).toResolvedValue(
    (
      service: EntityService,
      deadLetters: DeadLetterQueue,
      logger: HandlerLogger,
      ready: () => Promise<void>,
      database: PostgresDatabase,
      timeout: FunctionTimeout,
    ) =>
      createSqsBatchHandler({
        service,
        deadLetters,
        logger,
        ready,
        interrupt: (graceMs) => database.interrupt(graceMs),
        onInvocation: (remainingMs) => timeout.observe(remainingMs),
      }),
    [
      TOKENS.service,
      TOKENS.deadLetters,
      TOKENS.logger,
      TOKENS.schemaCheck,
      TOKENS.postgres,
      TOKENS.functionTimeout,
    ],
  );
  container.bind<RelayHandler>(TOKENS.relayHandler).toResolvedValue(
    (
      service: EntityService,
      logger: HandlerLogger,
      ready: () => Promise<void>,
      database: PostgresDatabase,
      timeout: FunctionTimeout,
    ) =>
      createRelayHandler({
        service,
        logger,
        ready,
        interrupt: (graceMs) => database.interrupt(graceMs),
        onInvocation: (remainingMs) => timeout.observe(remainingMs),
      }),
    [TOKENS.service, TOKENS.logger, TOKENS.schemaCheck, TOKENS.postgres, TOKENS.functionTimeout],
  );
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
