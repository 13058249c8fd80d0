export {
  MAX_NAME_LENGTH,
  formatEntityKey,
  parseEntityKey,
  type EntityKey,
  type EntityKeyParseResult,
  type InvalidEntityKey,
  type InvalidEntityKeyCode,
} from "./entity-key.ts";
export {
  DeadlineReachedError,
  DomainError,
  GroupBlockedError,
  PermanentPortError,
  PortUnavailableError,
  TransientPortError,
  UnexpectedPortError,
  asPortError,
} from "./errors.ts";
export { entityEvent, eventIdForKey, type EntityEvent, type EntityEventType } from "./events.ts";
export type {
  Clock,
  DeadLetter,
  DeadLetterQueue,
  EntityChanges,
  EntityRepository,
  EntityState,
  EntityUnitOfWork,
  EntityView,
  EventPublisher,
  Observation,
  ObservationOutcome,
  Outbox,
  OutboxEntry,
  OutboxState,
  ParkedEvent,
  SettlePolicy,
  PublishFailure,
  PublishResult,
} from "./ports.ts";
export {
  DEFAULT_OUTBOX_POLICY,
  type Delivery,
  type DeliveryOptions,
  type DeliveryResult,
  type OutboxPolicy,
} from "./delivery.ts";
export { deliveryPipeline, type DeliveryPipeline } from "./delivery-pipeline.ts";
export {
  createEntityService,
  eventsToDeliver,
  type AcceptedOutcome,
  type EntityService,
  type EntityServiceDependencies,
  type ProcessOptions,
  type ProcessRequest,
  type ProcessResult,
} from "./use-cases.ts";
