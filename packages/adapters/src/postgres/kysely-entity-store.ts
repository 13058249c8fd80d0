import {
  TransientPortError,
  type EntityChanges,
  type EntityEvent,
  type EntityRepository,
  type EntityState,
  type EntityUnitOfWork,
  type EntityView,
} from "@entity/domain";
import { sql, type Kysely, type Transaction } from "kysely";
import { isConnectionLost, isWriteConflict, toPortError } from "./pg-errors.ts";
import type { EntityDatabase } from "./schema.ts";

/** Attempts of a unit of work that lost a race (two batches creating one name, a deadlock) before it fails. */
const CONFLICT_ATTEMPTS = 3;
/** Runs of a unit of work whose connection died under it (a pooled connection gone stale) before it fails. */
const CONNECTION_ATTEMPTS = 2;

/**
 * The repository on Kysely, for Postgres (pg) and PGlite alike. Batch-oriented: each unit-of-work method
 * is one or two statements whatever the batch size (arrays through `unnest`, so no parameter limit).
 *
 * Writers of the same name are serialised with row locks on its entity row (`for update`), which live in
 * the row itself, not in Postgres's shared lock table: a batch of 1,000 names takes no lock-table slots
 * (advisory locks took one each, and the table holds about 6,400). A name with no row yet cannot be
 * locked; two batches creating it at once are caught when the second insert conflicts, and that unit of
 * work is rolled back and run again (it then sees and locks the row).
 */
export class KyselyEntityStore implements EntityRepository {
  private readonly db: Kysely<EntityDatabase>;

  constructor(db: Kysely<EntityDatabase>) {
    this.db = db;
  }

  /**
   * Runs `work` in a transaction, again when it lost a race with a concurrent writer, and once more when
   * its connection died under it: a warm Lambda's pooled connection may have been closed while the
   * process was frozen. Running it again is safe even if the lost commit went through: the keys are then
   * observed, so they come back as duplicates.
   */
  async unitOfWork<T>(work: (unit: EntityUnitOfWork) => Promise<T>): Promise<T> {
    let conflicts = 0;
    let connectionsLost = 0;
    for (;;) {
      try {
        return await this.db.transaction().execute((trx) => work(new KyselyUnitOfWork(trx)));
      } catch (error) {
        if (isConnectionLost(error) && (connectionsLost += 1) < CONNECTION_ATTEMPTS) continue;
        if (!isWriteConflict(error)) throw toPortError(error);
        if ((conflicts += 1) >= CONFLICT_ATTEMPTS) {
          throw new TransientPortError(
            `the batch lost ${conflicts} races with concurrent writers of the same names; retry later`,
            { cause: error, code: "DB_WRITE_CONFLICT" },
          );
        }
      }
    }
  }

  async getEntity(name: string, recentObservations: number): Promise<EntityView | undefined> {
    try {
      const row = await this.db.selectFrom("entity").selectAll().where("name", "=", name).executeTakeFirst();
      if (!row) return undefined;
      const observations = await this.db
        .selectFrom("observation")
        .selectAll()
        .where("name", "=", name)
        .orderBy("observed_at", "desc")
        .limit(recentObservations)
        .execute();
      return {
        state: toEntityState(row),
        recentObservations: observations.map((observation) => ({
          key: observation.key,
          name: observation.name,
          observedAt: new Date(observation.observed_at),
          messageId: observation.message_id,
          receivedAt: new Date(observation.received_at),
          outcome: observation.outcome,
        })),
      };
    } catch (error) {
      throw toPortError(error);
    }
  }
}

/** Thrown inside a unit of work when another transaction created one of its new names first. */
export class NameCreatedConcurrently extends Error {
  readonly code = "NAME_CREATED_CONCURRENTLY";
}

class KyselyUnitOfWork implements EntityUnitOfWork {
  private readonly trx: Transaction<EntityDatabase>;
  /** Names whose row this unit of work holds locked: saved with an update; the others are inserted. */
  private readonly locked = new Set<string>();

  constructor(trx: Transaction<EntityDatabase>) {
    this.trx = trx;
  }

  async load(
    names: readonly string[],
    keys: readonly string[],
  ): Promise<{
    states: ReadonlyMap<string, EntityState>;
    observedKeys: ReadonlySet<string>;
    pendingEvents: readonly EntityEvent[];
  }> {
    if (names.length === 0) return { states: new Map(), observedKeys: new Set(), pendingEvents: [] };
    // Two round trips, on purpose. First the row locks, in name order so two batches cannot deadlock; a
    // row whose lock we waited for is returned as its holder committed it. Then the rest, in a statement
    // of its own: under READ COMMITTED a statement's snapshot is taken when it starts, so reading the
    // observations in the locking statement would miss what the previous holder committed (a lost update).
    const entities = await sql<EntitySelectRow>`
      select name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count
      from entity where name = any(${[...names]}::text[]) order by name for update
    `.execute(this.trx);
    const rows = await sql<{ key: string | null; payload: unknown }>`
      select o.key, null::jsonb as payload from observation o where o.key = any(${[...keys]}::text[])
      union all
      select * from (
        select null, x.payload from outbox x
        where x.entity_name = any(${[...names]}::text[]) and x.published_at is null and x.parked_at is null
        order by x.sequence
      ) pending
    `.execute(this.trx);
    const states = new Map<string, EntityState>();
    for (const row of entities.rows) {
      states.set(row.name, toEntityState(row));
      this.locked.add(row.name);
    }
    const observedKeys = new Set<string>();
    const pendingEvents: EntityEvent[] = [];
    for (const row of rows.rows) {
      if (row.key !== null) observedKeys.add(row.key);
      else pendingEvents.push(parsePayload(row.payload));
    }
    return { states, observedKeys, pendingEvents };
  }

  async save(changes: EntityChanges): Promise<void> {
    const { observations, events } = changes;
    const created = changes.states.filter((state) => !this.locked.has(state.name));
    const changed = changes.states.filter((state) => this.locked.has(state.name));
    // One statement for the whole batch; the observation -> entity foreign key is checked at its end,
    // when the entity rows of the same statement exist.
    const result = await sql<{ created: number }>`
      with created as (
        insert into entity (name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count)
        select * from unnest(
          ${created.map((s) => s.name)}::text[],
          ${created.map((s) => s.latestKey)}::text[],
          ${created.map((s) => s.latestObservedAt.toISOString())}::timestamptz[],
          ${created.map((s) => s.firstSeenAt.toISOString())}::timestamptz[],
          ${created.map((s) => s.updatedAt.toISOString())}::timestamptz[],
          ${created.map((s) => s.observationCount)}::integer[]
        ) as u(name) order by name
        on conflict (name) do nothing
        returning 1
      ), changed as (
        update entity e set
          latest_key = u.latest_key,
          latest_observed_at = u.latest_observed_at,
          updated_at = u.updated_at,
          observation_count = u.observation_count
        from unnest(
          ${changed.map((s) => s.name)}::text[],
          ${changed.map((s) => s.latestKey)}::text[],
          ${changed.map((s) => s.latestObservedAt.toISOString())}::timestamptz[],
          ${changed.map((s) => s.updatedAt.toISOString())}::timestamptz[],
          ${changed.map((s) => s.observationCount)}::integer[]
        ) as u(name, latest_key, latest_observed_at, updated_at, observation_count)
        where e.name = u.name
        returning 1
      ), observed as (
        insert into observation (key, name, observed_at, message_id, received_at, outcome)
        select * from unnest(
          ${observations.map((o) => o.key)}::text[],
          ${observations.map((o) => o.name)}::text[],
          ${observations.map((o) => o.observedAt.toISOString())}::timestamptz[],
          ${observations.map((o) => o.messageId)}::text[],
          ${observations.map((o) => o.receivedAt.toISOString())}::timestamptz[],
          ${observations.map((o) => o.outcome)}::text[]
        )
        returning 1
      ), queued as (
        -- Due at once, on the domain's clock (the event's processing time), like every outbox time.
        insert into outbox (event_id, event_type, entity_name, payload, created_at, next_attempt_at)
        select u.*, u.occurred_at from unnest(
          ${events.map((e) => e.eventId)}::text[],
          ${events.map((e) => e.type)}::text[],
          ${events.map((e) => e.entityName)}::text[],
          ${events.map((e) => JSON.stringify(e))}::jsonb[],
          ${events.map((e) => e.occurredAt)}::timestamptz[]
        ) as u(event_id, event_type, entity_name, payload, occurred_at)
        returning 1
      )
      select (select count(*) from created)::int as created, (select count(*) from changed)::int as changed,
             (select count(*) from observed)::int as observations, (select count(*) from queued)::int as events
    `.execute(this.trx);
    // A name that had no row at load time and has one now was created by a concurrent batch: our state
    // for it is stale, so the whole unit of work runs again (it will then lock the row).
    if ((result.rows[0]?.created ?? 0) < created.length) {
      throw new NameCreatedConcurrently("a concurrent batch created one of this batch's new names first");
    }
  }
}

interface EntitySelectRow {
  name: string;
  latest_key: string;
  latest_observed_at: Date | string;
  first_seen_at: Date | string;
  updated_at: Date | string;
  observation_count: number;
}

export function toEntityState(row: EntitySelectRow): EntityState {
  return {
    name: row.name,
    latestKey: row.latest_key,
    latestObservedAt: new Date(row.latest_observed_at),
    firstSeenAt: new Date(row.first_seen_at),
    updatedAt: new Date(row.updated_at),
    observationCount: Number(row.observation_count),
  };
}

export function parsePayload(payload: unknown): EntityEvent {
  return (typeof payload === "string" ? JSON.parse(payload) : payload) as EntityEvent;
}
