export { ManualClock, SystemClock } from "./memory/clocks.ts";
export {
  InMemoryEntityStore,
  type InMemoryEntityStoreOptions,
  type InMemoryWrite,
} from "./memory/in-memory-entity-store.ts";
export { InMemoryEventPublisher } from "./memory/in-memory-event-publisher.ts";
