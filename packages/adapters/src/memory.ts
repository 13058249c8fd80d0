// In-memory adapters and clocks: no I/O, no dependencies beyond the domain.
export { ManualClock, SystemClock } from "./memory/clocks.ts";
export { InMemoryDeadLetterQueue } from "./memory/in-memory-dead-letter-queue.ts";
export {
  InMemoryEntityStore,
  type InMemoryEntityStoreOptions,
  type InMemoryWrite,
} from "./memory/in-memory-entity-store.ts";
export { InMemoryEventPublisher } from "./memory/in-memory-event-publisher.ts";
