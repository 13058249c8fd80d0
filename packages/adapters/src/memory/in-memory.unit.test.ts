import { testEntityRepositoryContract } from "../contracts/entity-repository.contract.ts";
import { testEventPublisherContract } from "../contracts/event-publisher.contract.ts";
import { testDeadLetterQueueContract } from "../contracts/dead-letter-queue.contract.ts";
import { testOutboxContract } from "../contracts/outbox.contract.ts";
import { InMemoryDeadLetterQueue } from "./in-memory-dead-letter-queue.ts";
import { InMemoryEntityStore } from "./in-memory-entity-store.ts";
import { InMemoryEventPublisher } from "./in-memory-event-publisher.ts";

const inMemoryStore = () => {
  const store = new InMemoryEntityStore();
  return Promise.resolve({ repository: store, outbox: store, close: () => Promise.resolve() });
};
testEntityRepositoryContract("in-memory", inMemoryStore);
testOutboxContract("in-memory", inMemoryStore);

testEventPublisherContract("in-memory", () => {
  const publisher = new InMemoryEventPublisher();
  return Promise.resolve({
    publisher,
    received: () => Promise.resolve([...publisher.published]),
    close: () => Promise.resolve(),
  });
});

testDeadLetterQueueContract("in-memory", () => {
  const deadLetters = new InMemoryDeadLetterQueue();
  return Promise.resolve({
    deadLetters,
    received: () => Promise.resolve([...deadLetters.letters]),
    keepsGroups: true,
    close: () => Promise.resolve(),
  });
});
