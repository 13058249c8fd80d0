import type { Clock, EntityEvent, EntityService, ProcessResult } from "@entity/domain";
import { ContainerModule } from "inversify";
import { ManualClock } from "../memory/clocks.ts";
import { InMemoryEntityStore, type InMemoryEntityStoreOptions } from "../memory/in-memory-entity-store.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
import {
  PORTS,
  entityServiceModule,
  inMemoryPublisherModule,
  inMemoryStoreModule,
  rootContainer,
} from "../wiring.ts";

export interface TestApp extends EntityService {
  /** Processes one key (a fresh message id unless given), then delivers its event, as the Lambda does. */
  process(key: string, messageId?: string): Promise<ProcessResult>;
  /** Events the relay has published so far, in order. */
  publishedEvents(): readonly EntityEvent[];
  readonly store: InMemoryEntityStore;
  readonly publisher: InMemoryEventPublisher;
  readonly clock: ManualClock;
}

/**
 * The tests' composition root: the domain's use cases wired to in-memory adapters (the same modules and
 * tokens as the Lambda's and the devrunner's roots), with handles to inspect what was stored and
 * published and to inject faults.
 */
export function createTestApp(options: { now?: Date; store?: InMemoryEntityStoreOptions } = {}): TestApp {
  const store = new InMemoryEntityStore(options.store);
  const publisher = new InMemoryEventPublisher();
  const clock = new ManualClock(options.now);
  const container = rootContainer(
    inMemoryStoreModule(store),
    inMemoryPublisherModule(publisher),
    new ContainerModule(({ bind }) => {
      bind<Clock>(PORTS.clock).toConstantValue(clock);
    }),
    entityServiceModule,
  );
  const service = container.get<EntityService>(PORTS.service);
  let messages = 0;
  return {
    ...service,
    async process(key, messageId) {
      messages += 1;
      const result = await service.processEntity(key, { messageId: messageId ?? `test-message-${messages}` });
      await service.deliverEvents([result]);
      return result;
    },
    publishedEvents: () => publisher.published,
    store,
    publisher,
    clock,
  };
}
