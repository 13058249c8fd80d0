import type {
  EntityChanges,
  EntityEvent,
  EntityRepository,
  EntityState,
  EntityUnitOfWork,
  EntityView,
  Outbox,
  OutboxRelayRound,
} from "@entity/domain";
import { sql, type Kysely, type Transaction } from "kysely";
import { toPortError } from "./pg-errors.ts";
import type { EntityDatabase } from "./schema.ts";

/**
 * Repository and outbox on Kysely, for Postgres (pg) and PGlite alike. Batch-oriented: each unit-of-work
 * method is one statement whatever the batch size (arrays through `unnest`, so no parameter limit).
 * Writers of the same name are serialised with transaction-scoped advisory locks taken in name order.
 */
export class KyselyEntityStore implements EntityRepository, Outbox {
  private readonly db: Kysely<EntityDatabase>;

  constructor(db: Kysely<EntityDatabase>) {
    this.db = db;
  }

  async unitOfWork<T>(work: (unit: EntityUnitOfWork) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction().execute((trx) => work(new KyselyUnitOfWork(trx)));
    } catch (error) {
      throw toPortError(error);
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

  async relayPending(
    limit: number,
    publish: (events: readonly EntityEvent[]) => Promise<readonly string[]>,
  ): Promise<OutboxRelayRound> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        // SKIP LOCKED: a second relay takes the next events instead of waiting for (and re-sending) these.
        const rows = await trx
          .selectFrom("outbox")
          .select(["sequence", "event_id", "payload"])
          .where("published_at", "is", null)
          .orderBy("sequence")
          .limit(limit)
          .forUpdate()
          .skipLocked()
          .execute();
        if (rows.length === 0) return { claimed: 0, published: [] };
        const published = new Set(await publish(rows.map((row) => parsePayload(row.payload))));
        const marked = rows.filter((row) => published.has(row.event_id));
        if (marked.length > 0) {
          await trx
            .updateTable("outbox")
            .set({ published_at: sql<Date>`now()` })
            .where(
              "sequence",
              "in",
              marked.map((row) => row.sequence),
            )
            .execute();
        }
        return { claimed: rows.length, published: marked.map((row) => row.event_id) };
      });
    } catch (error) {
      throw toPortError(error);
    }
  }

  async pendingCount(): Promise<number> {
    try {
      const row = await this.db
        .selectFrom("outbox")
        .select(sql<number>`count(*)::int`.as("pending"))
        .where("published_at", "is", null)
        .executeTakeFirstOrThrow();
      return row.pending;
    } catch (error) {
      throw toPortError(error);
    }
  }
}

class KyselyUnitOfWork implements EntityUnitOfWork {
  private readonly trx: Transaction<EntityDatabase>;

  constructor(trx: Transaction<EntityDatabase>) {
    this.trx = trx;
  }

  async load(
    names: readonly string[],
    keys: readonly string[],
  ): Promise<{ states: ReadonlyMap<string, EntityState>; observedKeys: ReadonlySet<string> }> {
    if (names.length === 0) return { states: new Map(), observedKeys: new Set() };
    // Two round trips, on purpose. First every advisory lock, in one fixed (hash) order so two batches
    // cannot deadlock (the aggregate makes Postgres evaluate every call). Then the read, in a statement of
    // its own: under READ COMMITTED a statement's snapshot is taken when it starts, so a read in the same
    // statement as the lock would miss what the previous holder committed while we waited (a lost update).
    await sql`
      select count(pg_advisory_xact_lock(t.lock_id))
      from (
        select distinct hashtextextended(name, 7401) as lock_id from unnest(${[...names]}::text[]) as u(name)
        order by lock_id
      ) t
    `.execute(this.trx);
    const rows = await sql<LoadRow>`
      select 'entity' as kind, e.name, e.latest_key, e.latest_observed_at, e.first_seen_at, e.updated_at,
             e.observation_count, null::text as key
      from entity e where e.name = any(${[...names]}::text[])
      union all
      select 'observed', null, null, null, null, null, null, o.key
      from observation o where o.key = any(${[...keys]}::text[])
    `.execute(this.trx);
    const states = new Map<string, EntityState>();
    const observedKeys = new Set<string>();
    for (const row of rows.rows) {
      if (row.kind === "entity") states.set(row.name!, toEntityState(row as EntitySelectRow));
      else observedKeys.add(row.key!);
    }
    return { states, observedKeys };
  }

  async save(changes: EntityChanges): Promise<void> {
    const { states, observations, events } = changes;
    // One statement for the whole batch; the observation -> entity foreign key is checked at its end,
    // when the entity rows of the same statement exist.
    await sql`
      with saved as (
        insert into entity (name, latest_key, latest_observed_at, first_seen_at, updated_at, observation_count)
        select * from unnest(
          ${states.map((s) => s.name)}::text[],
          ${states.map((s) => s.latestKey)}::text[],
          ${states.map((s) => s.latestObservedAt.toISOString())}::timestamptz[],
          ${states.map((s) => s.firstSeenAt.toISOString())}::timestamptz[],
          ${states.map((s) => s.updatedAt.toISOString())}::timestamptz[],
          ${states.map((s) => s.observationCount)}::integer[]
        )
        on conflict (name) do update set
          latest_key = excluded.latest_key,
          latest_observed_at = excluded.latest_observed_at,
          updated_at = excluded.updated_at,
          observation_count = excluded.observation_count
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
        insert into outbox (event_id, event_type, entity_name, payload)
        select * from unnest(
          ${events.map((e) => e.eventId)}::text[],
          ${events.map((e) => e.type)}::text[],
          ${events.map((e) => e.entityName)}::text[],
          ${events.map((e) => JSON.stringify(e))}::jsonb[]
        )
        returning 1
      )
      select (select count(*) from saved) as entities, (select count(*) from observed) as observations,
             (select count(*) from queued) as events
    `.execute(this.trx);
  }
}

interface LoadRow extends Partial<Omit<EntitySelectRow, "name">> {
  kind: "entity" | "observed";
  name: string | null;
  key: string | null;
}

interface EntitySelectRow {
  name: string;
  latest_key: string;
  latest_observed_at: Date | string;
  first_seen_at: Date | string;
  updated_at: Date | string;
  observation_count: number;
}

function toEntityState(row: EntitySelectRow): EntityState {
  return {
    name: row.name,
    latestKey: row.latest_key,
    latestObservedAt: new Date(row.latest_observed_at),
    firstSeenAt: new Date(row.first_seen_at),
    updatedAt: new Date(row.updated_at),
    observationCount: Number(row.observation_count),
  };
}

function parsePayload(payload: unknown): EntityEvent {
  return (typeof payload === "string" ? JSON.parse(payload) : payload) as EntityEvent;
}
