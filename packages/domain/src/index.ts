export {
  MAX_NAME_LENGTH,
  formatEntityKey,
  formatStamp,
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
  OutboxRelayRound,
  PublishFailure,
  PublishResult,
} from "./ports.ts";
export {
  createEntityService,
  type AcceptedOutcome,
  type EntityService,
  type EntityServiceDependencies,
  type ProcessOptions,
  type ProcessRequest,
  type ProcessResult,
  type RelayResult,
} from "./use-cases.ts";
