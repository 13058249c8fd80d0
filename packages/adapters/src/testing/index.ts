export { createTestApp, type TestApp } from "./test-app.ts";
export { ManualClock } from "../memory/clocks.ts";
export { InMemoryEntityStore, type InMemoryWrite } from "../memory/in-memory-entity-store.ts";
export { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
export { InMemoryDeadLetterQueue } from "../memory/in-memory-dead-letter-queue.ts";
export { startFakeSecretsManager } from "./fake-secrets-manager.ts";
export {
  startSqsFaultProxy,
  type SqsBatchEntry,
  type SqsEntryFault,
  type SqsFaultProxy,
  type SqsFaultProxyCounts,
} from "./sqs-fault-proxy.ts";
export { drainQueue, startTestFauxqs, type TestSqsEmulator } from "./fauxqs.ts";
export {
  EMULATOR_REGION,
  emulatorSqsClient,
  queuedBodies,
  queuedMessages,
  type FauxqsServer,
  type QueuedMessage,
} from "../sqs/emulator.ts";
export { createTestDatabase, type TestDatabase } from "./postgres-test-database.ts";
export { createTestCertificates, type TestCertificates } from "./tls-fixtures.ts";
export { startPortForward, type PortForward, type PortForwardOptions } from "./port-forward.ts";
export { postgresTestImage, startPostgresContainer, type PostgresContainer } from "./postgres-image.ts";
export { migratedTestDatabase, testKysely, testPgClient, testServiceOn } from "./test-database.ts";
