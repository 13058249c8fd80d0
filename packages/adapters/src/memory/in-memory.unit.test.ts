import { testEntityRepositoryContract } from "../contracts/entity-repository.contract.ts";
import { testEventPublisherContract } from "../contracts/event-publisher.contract.ts";
import { InMemoryEntityStore } from "./in-memory-entity-store.ts";
import { InMemoryEventPublisher } from "./in-memory-event-publisher.ts";

testEntityRepositoryContract("in-memory", () => {
  const store = new InMemoryEntityStore();
  return Promise.resolve({ repository: store, outbox: store, close: () => Promise.resolve() });
});

testEventPublisherContract("in-memory", () => {
  const publisher = new InMemoryEventPublisher();
  return Promise.resolve({
    publisher,
    received: () => Promise.resolve([...publisher.published]),
    close: () => Promise.resolve(),
  });
});
