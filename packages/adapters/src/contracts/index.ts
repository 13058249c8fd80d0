export { testEntityRepositoryContract, type EntityRepositoryHarness } from "./entity-repository.contract.ts";
export {
  sampleEvents,
  testEventPublisherContract,
  type EventPublisherHarness,
} from "./event-publisher.contract.ts";
export { testOutboxContract } from "./outbox.contract.ts";
export { testDeadLetterQueueContract, type DeadLetterQueueHarness } from "./dead-letter-queue.contract.ts";
