import type {
  EntityChanges,
  EntityEvent,
  EntityRepository,
  EntityState,
  EntityUnitOfWork,
  EntityView,
  Observation,
  Outbox,
  OutboxRelayRound,
} from "@entity/domain";

interface OutboxEntry {
  readonly sequence: number;
  readonly event: EntityEvent;
  publishedAt?: Date;
  claimed: boolean;
}

/** What a fault hook sees: the write about to happen inside a unit of work. */
export type InMemoryWrite =
  { readonly kind: "save"; readonly changes: EntityChanges } | { readonly kind: "commit" };

export interface InMemoryEntityStoreOptions {
  /** Called before each write and before commit; throwing fails (and rolls back) the unit of work. */
  readonly beforeWrite?: (write: InMemoryWrite) => void;
}

/**
 * Repository and outbox in memory, with the same semantics as the Postgres adapter: units of work are
 * serialised (so no update is lost), writes are staged and applied only on commit (so a failure rolls
 * everything back, outbox included).
 */
export class InMemoryEntityStore implements EntityRepository, Outbox {
  private readonly entities = new Map<string, EntityState>();
  private readonly observations = new Map<string, Observation>();
  private readonly outbox: OutboxEntry[] = [];
  private sequence = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly beforeWrite: (write: InMemoryWrite) => void;

  constructor(options: InMemoryEntityStoreOptions = {}) {
    this.beforeWrite = options.beforeWrite ?? (() => undefined);
  }

  async unitOfWork<T>(work: (unit: EntityUnitOfWork) => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      const staged = {
        entities: new Map<string, EntityState>(),
        observations: [] as Observation[],
        events: [] as EntityEvent[],
      };
      const unit: EntityUnitOfWork = {
        load: (names, keys) => {
          const states = new Map<string, EntityState>();
          for (const name of names) {
            const state = staged.entities.get(name) ?? this.entities.get(name);
            if (state) states.set(name, state);
          }
          const stagedKeys = new Set(staged.observations.map((observation) => observation.key));
          const observedKeys = new Set(
            keys.filter((key) => this.observations.has(key) || stagedKeys.has(key)),
          );
          return Promise.resolve({ states, observedKeys });
        },
        save: (changes) => {
          this.beforeWrite({ kind: "save", changes });
          for (const state of changes.states) staged.entities.set(state.name, { ...state });
          const stagedKeys = new Set(staged.observations.map((observation) => observation.key));
          for (const observation of changes.observations) {
            if (this.observations.has(observation.key) || stagedKeys.has(observation.key)) {
              throw new Error(`observation ${observation.key} already exists`);
            }
            stagedKeys.add(observation.key);
            staged.observations.push({ ...observation });
          }
          staged.events.push(...changes.events);
          return Promise.resolve();
        },
      };
      const result = await work(unit);
      this.beforeWrite({ kind: "commit" });
      for (const [name, state] of staged.entities) this.entities.set(name, state);
      for (const observation of staged.observations) this.observations.set(observation.key, observation);
      for (const event of staged.events) {
        this.sequence += 1;
        this.outbox.push({ sequence: this.sequence, event, claimed: false });
      }
      return result;
    } finally {
      release();
    }
  }

  getEntity(name: string, recentObservations: number): Promise<EntityView | undefined> {
    const state = this.entities.get(name);
    if (!state) return Promise.resolve(undefined);
    const recent = [...this.observations.values()]
      .filter((observation) => observation.name === name)
      .sort((a, b) => b.observedAt.getTime() - a.observedAt.getTime())
      .slice(0, recentObservations);
    return Promise.resolve({ state, recentObservations: recent });
  }

  async relayPending(
    limit: number,
    publish: (events: readonly EntityEvent[]) => Promise<readonly string[]>,
  ): Promise<OutboxRelayRound> {
    const claimed = this.outbox.filter((entry) => !entry.publishedAt && !entry.claimed).slice(0, limit);
    if (claimed.length === 0) return { claimed: 0, published: [] };
    for (const entry of claimed) entry.claimed = true;
    try {
      const published = new Set(await publish(claimed.map((entry) => entry.event)));
      const now = new Date();
      const marked: string[] = [];
      for (const entry of claimed) {
        if (published.has(entry.event.eventId)) {
          entry.publishedAt = now;
          marked.push(entry.event.eventId);
        }
      }
      return { claimed: claimed.length, published: marked };
    } finally {
      for (const entry of claimed) entry.claimed = false;
    }
  }

  pendingCount(): Promise<number> {
    return Promise.resolve(this.outbox.filter((entry) => !entry.publishedAt).length);
  }

  /** Everything stored, for assertions in tests. */
  snapshot(): {
    entities: EntityState[];
    observations: Observation[];
    outbox: { event: EntityEvent; published: boolean }[];
  } {
    return {
      entities: [...this.entities.values()],
      observations: [...this.observations.values()],
      outbox: this.outbox.map((entry) => ({
        event: entry.event,
        published: entry.publishedAt !== undefined,
      })),
    };
  }

  private async acquire(): Promise<() => void> {
    let release!: () => void;
    const previous = this.queue;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }
}
