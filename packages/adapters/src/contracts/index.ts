export { testEntityRepositoryContract, type EntityRepositoryHarness } from "./entity-repository.contract.ts";
export {
  sampleEvents,
  testEventPublisherContract,
  type EventPublisherHarness,
} from "./event-publisher.contract.ts";
