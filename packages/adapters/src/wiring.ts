// The bindings every composition root shares (the Lambda's, the devrunner's, the tests'): one token per
// port of the domain, and the module that makes the domain's use cases from whatever a root bound to
// them. Explicit tokens and `toResolvedValue`: esbuild emits no decorator metadata, so nothing is resolved
// by type, and reflect-metadata is not needed.
import {
  DEFAULT_OUTBOX_POLICY,
  createEntityService,
  type Clock,
  type EntityRepository,
  type EntityService,
  type EventPublisher,
  type Outbox,
  type OutboxPolicy,
} from "@entity/domain";
import { Container, ContainerModule } from "inversify";
import type { Kysely } from "kysely";
import { InMemoryEntityStore } from "./memory/in-memory-entity-store.ts";
import { InMemoryEventPublisher } from "./memory/in-memory-event-publisher.ts";
import { KyselyEntityStore } from "./postgres/kysely-entity-store.ts";
import { KyselyOutbox } from "./postgres/kysely-outbox.ts";
import type { EntityDatabase } from "./postgres/schema.ts";
import { SqsEventPublisher, type SqsEventPublisherOptions } from "./sqs/sqs-event-publisher.ts";

export type { ContainerModule };

/** The domain's ports and use cases, and the database the Kysely adapters need, as container tokens. */
export const PORTS = {
  /** A Kysely<EntityDatabase> (Postgres or PGlite), for `kyselyStoreModule`. */
  database: Symbol.for("entity.Database"),
  repository: Symbol.for("entity.EntityRepository"),
  outbox: Symbol.for("entity.Outbox"),
  publisher: Symbol.for("entity.EventPublisher"),
  deadLetters: Symbol.for("entity.DeadLetterQueue"),
  clock: Symbol.for("entity.Clock"),
  outboxPolicy: Symbol.for("entity.OutboxPolicy"),
  service: Symbol.for("entity.EntityService"),
} as const;

/** The domain's use cases from the ports a root bound; the outbox policy defaults to the domain's. */
export const entityServiceModule = new ContainerModule(({ bind, isBound }) => {
  if (!isBound(PORTS.outboxPolicy))
    bind<OutboxPolicy>(PORTS.outboxPolicy).toConstantValue(DEFAULT_OUTBOX_POLICY);
  bind<EntityService>(PORTS.service).toResolvedValue(
    (
      repository: EntityRepository,
      outbox: Outbox,
      publisher: EventPublisher,
      clock: Clock,
      policy: OutboxPolicy,
    ) => createEntityService({ repository, outbox, publisher, clock, outboxPolicy: policy }),
    [PORTS.repository, PORTS.outbox, PORTS.publisher, PORTS.clock, PORTS.outboxPolicy],
  );
});

/** Repository and outbox on the database bound to `PORTS.database` (made when first asked for). */
export const kyselyStoreModule = new ContainerModule(({ bind }) => {
  bind<EntityRepository>(PORTS.repository).toResolvedValue(
    (db: Kysely<EntityDatabase>) => new KyselyEntityStore(db),
    [PORTS.database],
  );
  bind<Outbox>(PORTS.outbox).toResolvedValue(
    (db: Kysely<EntityDatabase>) => new KyselyOutbox(db),
    [PORTS.database],
  );
});

/** The database the Kysely adapters work on (`kyselyStoreModule` asks for it). */
export function databaseModule(db: Kysely<EntityDatabase>): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<Kysely<EntityDatabase>>(PORTS.database).toConstantValue(db);
  });
}

/** Repository and outbox in memory (one store serves both). */
export function inMemoryStoreModule(store: InMemoryEntityStore = new InMemoryEntityStore()): ContainerModule {
  return storeModule(store, store);
}

/** A repository and outbox made elsewhere (the devrunner's `watch` keeps an earlier run's in-memory store). */
export function storeModule(repository: EntityRepository, outbox: Outbox): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<EntityRepository>(PORTS.repository).toConstantValue(repository);
    bind<Outbox>(PORTS.outbox).toConstantValue(outbox);
  });
}

/** Events kept in memory, for whoever holds `publisher` to read (the devrunner prints them, tests check them). */
export function inMemoryPublisherModule(
  publisher: InMemoryEventPublisher = new InMemoryEventPublisher(),
): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<EventPublisher>(PORTS.publisher).toConstantValue(publisher);
  });
}

/** Events sent to one SQS queue (made when first asked for; the client loads the SDK on first use). */
export function sqsPublisherModule(options: SqsEventPublisherOptions): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind<EventPublisher>(PORTS.publisher).toResolvedValue(() => new SqsEventPublisher(options));
  });
}

/** A container of singletons with the given modules loaded (what each root starts from). */
export function rootContainer(...modules: ContainerModule[]): Container {
  const container = new Container({ defaultScope: "Singleton" });
  container.load(...modules);
  return container;
}
