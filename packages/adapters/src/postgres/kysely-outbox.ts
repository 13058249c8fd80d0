import type {
  EntityEvent,
  Outbox,
  OutboxEntry,
  ParkedEvent,
  PublishResult,
  SettlePolicy,
} from "@entity/domain";
import { sql, type Kysely, type RawBuilder } from "kysely";
import { parsePayload } from "./kysely-entity-store.ts";
import { toPortError } from "./pg-errors.ts";
import type { EntityDatabase } from "./schema.ts";

/**
 * The outbox on Kysely (Postgres and PGlite). Relays lease events instead of holding them in a transaction
 * while they publish: a claim is one short statement that pushes the events' next attempt past the lease,
 * skipping rows another relay is claiming at that moment, so a slow queue never holds locks or a
 * transaction open, and two relays never take the same event.
 */
export class KyselyOutbox implements Outbox {
  private readonly db: Kysely<EntityDatabase>;

  constructor(db: Kysely<EntityDatabase>) {
    this.db = db;
  }

  async claim(
    limit: number,
    options: { ordered: boolean; leaseMs: number; now: Date; entityNames?: readonly string[] },
  ): Promise<{ events: readonly EntityEvent[]; parked: readonly ParkedEvent[] }> {
    const now = options.now.toISOString();
    const names = options.entityNames
      ? sql`and x.entity_name = any(${[...options.entityNames]}::text[])`
      : sql``;
    try {
      const parked = options.ordered ? await this.parkBehindParked(now, names) : [];
      // Ordered: only an entity's oldest unpublished event is claimable (pending, leased or parked ones
      // all count), which also means at most one event per entity per claim.
      const order = options.ordered
        ? sql`and not exists (
            select 1 from outbox e
            where e.entity_name = x.entity_name and e.sequence < x.sequence and e.published_at is null)`
        : sql``;
      const claimed = await sql<{ sequence: string; payload: unknown }>`
        update outbox o set next_attempt_at = ${now}::timestamptz + ${options.leaseMs}::double precision * interval '1 millisecond'
        where o.sequence in (
          select x.sequence from outbox x
          where x.published_at is null and x.parked_at is null and x.next_attempt_at <= ${now}::timestamptz
            ${names} ${order}
          order by x.sequence
          limit ${limit}::integer
          for update skip locked
        )
        returning o.sequence, o.payload
      `.execute(this.db);
      const events = claimed.rows
        .sort((a, b) => Number(a.sequence) - Number(b.sequence))
        .map((row) => parsePayload(row.payload));
      return { events, parked };
    } catch (error) {
      throw toPortError(error);
    }
  }

  async settle(outcome: PublishResult, policy: SettlePolicy): Promise<{ parked: readonly ParkedEvent[] }> {
    const ids = [...outcome.published, ...outcome.failed.map((failure) => failure.eventId)];
    if (ids.length === 0) return { parked: [] };
    if (outcome.failed.length === 0) return this.markPublished(outcome.published, policy.now);
    const ok = [...outcome.published.map(() => true), ...outcome.failed.map(() => false)];
    const errors = [...outcome.published.map(() => null), ...outcome.failed.map((failure) => failure.reason)];
    const permanent = [
      ...outcome.published.map(() => false),
      ...outcome.failed.map((failure) => !failure.retryable),
    ];
    // Retry delays by attempt number, so the backoff is computed in the same statement as the attempt count.
    const delays = Array.from({ length: policy.maxAttempts }, (_, i) =>
      Math.round(policy.retryDelayMs(i + 1)),
    );
    const now = policy.now.toISOString();
    try {
      const result = await sql<ParkedRow>`
        with outcome as (
          select * from unnest(${ids}::text[], ${ok}::boolean[], ${errors}::text[], ${permanent}::boolean[])
            as x(event_id, ok, error, permanent)
        ), settled as (
          update outbox o set
            attempts = o.attempts + 1,
            published_at = case when x.ok then ${now}::timestamptz end,
            parked_at = case when not x.ok and (x.permanent or o.attempts + 1 >= ${policy.maxAttempts})
                             then ${now}::timestamptz end,
            last_error = case when x.ok then o.last_error else x.error end,
            next_attempt_at = case when x.ok then o.next_attempt_at else ${now}::timestamptz
              + (${delays}::integer[])[least(o.attempts + 1, ${delays.length})] * interval '1 millisecond' end
          from outcome x
          where o.event_id = x.event_id and o.published_at is null and (x.ok or o.parked_at is null)
          returning o.event_id, o.entity_name, o.sequence, o.parked_at, o.last_error, o.attempts
        ), behind as (
          update outbox l set parked_at = ${now}::timestamptz,
            last_error = 'waits behind parked event ' || s.event_id || ' of the same entity (ordered delivery)'
          from settled s
          where ${policy.ordered}::boolean and s.parked_at is not null and l.entity_name = s.entity_name
            and l.sequence > s.sequence and l.published_at is null and l.parked_at is null
            and l.event_id <> all(${ids}::text[])
          returning l.event_id, l.entity_name, l.last_error, l.attempts
        )
        select event_id, entity_name, last_error, attempts from settled where parked_at is not null
        union all
        select event_id, entity_name, last_error, attempts from behind
      `.execute(this.db);
      return { parked: result.rows.map(toParkedEvent) };
    } catch (error) {
      throw toPortError(error);
    }
  }

  /** The common case, every event sent: one plain update, none of the failure bookkeeping. */
  private async markPublished(eventIds: readonly string[], now: Date): Promise<{ parked: [] }> {
    try {
      await sql`
        update outbox set attempts = attempts + 1, published_at = ${now.toISOString()}::timestamptz
        where event_id = any(${[...eventIds]}::text[]) and published_at is null
      `.execute(this.db);
      return { parked: [] };
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
        .where("parked_at", "is", null)
        .executeTakeFirstOrThrow();
      return row.pending;
    } catch (error) {
      throw toPortError(error);
    }
  }

  async list(options: {
    states: readonly ("pending" | "parked")[];
    limit: number;
  }): Promise<readonly OutboxEntry[]> {
    const pending = options.states.includes("pending");
    const parked = options.states.includes("parked");
    try {
      const rows = await this.db
        .selectFrom("outbox")
        .select(["payload", "attempts", "last_error", "created_at", "next_attempt_at", "parked_at"])
        .where("published_at", "is", null)
        .where((eb) =>
          pending && parked
            ? eb.lit(true)
            : pending
              ? eb("parked_at", "is", null)
              : eb("parked_at", "is not", null),
        )
        .orderBy("sequence")
        .limit(options.limit)
        .execute();
      return rows.map((row) => ({
        event: parsePayload(row.payload),
        state: row.parked_at ? "parked" : "pending",
        attempts: Number(row.attempts),
        lastError: row.last_error ?? undefined,
        createdAt: new Date(row.created_at),
        nextAttemptAt: row.parked_at ? undefined : new Date(row.next_attempt_at),
        parkedAt: row.parked_at ? new Date(row.parked_at) : undefined,
      }));
    } catch (error) {
      throw toPortError(error);
    }
  }

  async redrive(eventIds: readonly string[] | undefined, now: Date): Promise<readonly string[]> {
    try {
      const rows = await this.db
        .updateTable("outbox")
        .set({ parked_at: null, attempts: 0, next_attempt_at: now })
        .where("parked_at", "is not", null)
        .where("published_at", "is", null)
        .$if(eventIds !== undefined, (query) => query.where("event_id", "in", [...(eventIds ?? []), ""]))
        .returning("event_id")
        .execute();
      return rows.map((row) => row.event_id);
    } catch (error) {
      throw toPortError(error);
    }
  }

  /** Ordered delivery: events behind a parked event of their entity are parked with it (in one statement). */
  private async parkBehindParked(now: string, names: RawBuilder<unknown>): Promise<ParkedEvent[]> {
    const result = await sql<ParkedRow>`
      update outbox l set parked_at = ${now}::timestamptz,
        last_error = 'waits behind parked event ' || p.event_id || ' of the same entity (ordered delivery)'
      from (
        select distinct on (x.entity_name) x.entity_name, x.event_id, x.sequence from outbox x
        where x.published_at is null and x.parked_at is not null ${names}
        order by x.entity_name, x.sequence
      ) p
      where l.entity_name = p.entity_name and l.sequence > p.sequence
        and l.published_at is null and l.parked_at is null
      returning l.event_id, l.entity_name, l.last_error, l.attempts
    `.execute(this.db);
    return result.rows.map(toParkedEvent);
  }
}

interface ParkedRow {
  event_id: string;
  entity_name: string;
  last_error: string | null;
  attempts: number;
}

function toParkedEvent(row: ParkedRow): ParkedEvent {
  return {
    eventId: row.event_id,
    entityName: row.entity_name,
    reason: row.last_error ?? "",
    attempts: Number(row.attempts),
  };
}
