import type {
  EntityChanges,
  EntityEvent,
  EntityRepository,
  EntityState,
  EntityUnitOfWork,
  EntityView,
  Observation,
  Outbox,
  OutboxEntry,
  ParkedEvent,
  PublishResult,
  SettlePolicy,
} from "@entity/domain";

interface OutboxRow {
  readonly sequence: number;
  readonly event: EntityEvent;
  readonly createdAt: Date;
  attempts: number;
  lastError: string | undefined;
  nextAttemptAt: Date;
  publishedAt: Date | undefined;
  parkedAt: Date | undefined;
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
  private readonly outbox: OutboxRow[] = [];
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
          const wanted = new Set(names);
          const pendingEvents = this.outbox
            .filter((row) => wanted.has(row.event.entityName) && isPending(row))
            .map((row) => row.event);
          return Promise.resolve({ states, observedKeys, pendingEvents });
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
        // Due at once, on the domain's clock (the event's processing time), like every outbox time.
        this.outbox.push({
          sequence: this.sequence,
          event,
          createdAt: new Date(event.occurredAt),
          attempts: 0,
          lastError: undefined,
          nextAttemptAt: new Date(event.occurredAt),
          publishedAt: undefined,
          parkedAt: undefined,
        });
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

  claim(
    limit: number,
    options: { ordered: boolean; leaseMs: number; now: Date; entityNames?: readonly string[] },
  ): Promise<{ events: readonly EntityEvent[]; parked: readonly ParkedEvent[] }> {
    const names = options.entityNames ? new Set(options.entityNames) : undefined;
    const parked: ParkedEvent[] = [];
    if (options.ordered) {
      for (const row of this.outbox) {
        if (row.parkedAt && !row.publishedAt && (!names || names.has(row.event.entityName)))
          parked.push(...this.parkBehind(row, options.now));
      }
    }
    const blocked = new Set<string>();
    const claimed: OutboxRow[] = [];
    for (const row of this.outbox) {
      if (claimed.length >= limit) break;
      if (row.publishedAt) continue;
      const name = row.event.entityName;
      const behindAnother = blocked.has(name);
      if (options.ordered) blocked.add(name);
      if (row.parkedAt || behindAnother || (names && !names.has(name))) continue;
      if (row.nextAttemptAt.getTime() > options.now.getTime()) continue;
      claimed.push(row);
    }
    for (const row of claimed) row.nextAttemptAt = new Date(options.now.getTime() + options.leaseMs);
    return Promise.resolve({ events: claimed.map((row) => row.event), parked });
  }

  settle(outcome: PublishResult, policy: SettlePolicy): Promise<{ parked: readonly ParkedEvent[] }> {
    const byId = new Map(this.outbox.map((row) => [row.event.eventId, row]));
    const parked: ParkedEvent[] = [];
    for (const id of outcome.published) {
      const row = byId.get(id);
      if (!row || row.publishedAt) continue;
      row.publishedAt = policy.now;
      row.attempts += 1;
    }
    for (const failure of outcome.failed) {
      const row = byId.get(failure.eventId);
      if (!row || row.publishedAt || row.parkedAt) continue;
      row.attempts += 1;
      row.lastError = failure.reason;
      row.nextAttemptAt = new Date(policy.now.getTime() + policy.retryDelayMs(row.attempts));
      if (!failure.retryable || row.attempts >= policy.maxAttempts) {
        row.parkedAt = policy.now;
        parked.push(parkedEvent(row));
        if (policy.ordered) parked.push(...this.parkBehind(row, policy.now));
      }
    }
    return Promise.resolve({ parked });
  }

  pendingCount(): Promise<number> {
    return Promise.resolve(this.outbox.filter(isPending).length);
  }

  list(options: {
    states: readonly ("pending" | "parked")[];
    limit: number;
  }): Promise<readonly OutboxEntry[]> {
    const rows = this.outbox.filter(
      (row) =>
        (options.states.includes("pending") && isPending(row)) ||
        (options.states.includes("parked") && row.parkedAt !== undefined && !row.publishedAt),
    );
    return Promise.resolve(rows.slice(0, options.limit).map(toEntry));
  }

  redrive(eventIds: readonly string[] | undefined, now: Date): Promise<readonly string[]> {
    const wanted = eventIds ? new Set(eventIds) : undefined;
    const redriven: string[] = [];
    for (const row of this.outbox) {
      if (!row.parkedAt || row.publishedAt || (wanted && !wanted.has(row.event.eventId))) continue;
      row.parkedAt = undefined;
      row.attempts = 0;
      row.nextAttemptAt = now;
      redriven.push(row.event.eventId);
    }
    return Promise.resolve(redriven);
  }

  /** Ordered delivery: the later unpublished events of a parked event's entity wait with it. */
  private parkBehind(parkedRow: OutboxRow, now: Date): ParkedEvent[] {
    const parked: ParkedEvent[] = [];
    for (const row of this.outbox) {
      if (row.sequence <= parkedRow.sequence || row.event.entityName !== parkedRow.event.entityName) continue;
      if (row.publishedAt || row.parkedAt) continue;
      row.parkedAt = now;
      row.lastError = `waits behind parked event ${parkedRow.event.eventId} of the same entity (ordered delivery)`;
      parked.push(parkedEvent(row));
    }
    return parked;
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
      outbox: this.outbox.map((row) => ({ event: row.event, published: row.publishedAt !== undefined })),
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

function isPending(row: OutboxRow): boolean {
  return !row.publishedAt && !row.parkedAt;
}

function parkedEvent(row: OutboxRow): ParkedEvent {
  return {
    eventId: row.event.eventId,
    entityName: row.event.entityName,
    reason: row.lastError ?? "",
    attempts: row.attempts,
  };
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    event: row.event,
    state: row.publishedAt ? "published" : row.parkedAt ? "parked" : "pending",
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt,
    nextAttemptAt: isPending(row) ? row.nextAttemptAt : undefined,
    parkedAt: row.parkedAt,
  };
}
