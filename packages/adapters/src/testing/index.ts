export { createTestApp, type TestApp } from "./test-app.ts";
export { ManualClock } from "../memory/clocks.ts";
export { InMemoryEntityStore, type InMemoryWrite } from "../memory/in-memory-entity-store.ts";
export { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
export { InMemoryDeadLetterQueue } from "../memory/in-memory-dead-letter-queue.ts";
