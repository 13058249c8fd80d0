import type { EntityDatabase } from "@entity/adapters/postgres";
import { sql, type Kysely } from "kysely";
import type { LocalFlow } from "../local-aws/flow.ts";
import { isUnpublishable, nameOf } from "./keys.ts";
import { REFUSAL } from "./publish-faults.ts";

export interface SoakExpectations {
  readonly valid: ReadonlySet<string>;
  readonly poison: ReadonlySet<string>;
  readonly isFlaky: (eventId: string) => boolean;
}

/** The end state, counted (the report's `counts`). */
export interface SoakCounts {
  readonly entities: number;
  readonly observations: number;
  /** Events committed to the outbox, and what became of them. */
  readonly events: number;
  readonly eventsPublished: number;
  readonly eventsParked: number;
  readonly eventsPending: number;
  /** Events of unpublishable entities (all must be parked, with the refusal as their reason). */
  readonly unpublishableEvents: number;
  /** Events whose first delivery the proxy failed on purpose, and those delivered after an attempt failed. */
  readonly flakyEvents: number;
  readonly eventsRecovered: number;
  /** Messages in the outbound queue, distinct events among them, and the surplus (at-least-once). */
  readonly outboundMessages: number;
  readonly eventsDelivered: number;
  readonly duplicateDeliveries: number;
  /** Messages in the DLQ, distinct keys among them, and valid keys among those (must be 0). */
  readonly deadLettered: number;
  readonly deadLetteredKeys: number;
  readonly validKeysDeadLettered: number;
  /** Messages still in the function's queue (must be 0). */
  readonly queued: number;
}

interface OutboxRow {
  event_id: string;
  entity_name: string;
  published: boolean;
  parked: boolean;
  attempts: number;
  last_error: string | null;
}

type Problems = (what: string, found: readonly string[]) => void;

/** Checks the end state against what was published: every problem found, and the figures. */
export async function checkSoak(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  expected: SoakExpectations,
): Promise<{ problems: string[]; counts: SoakCounts }> {
  const problems: string[] = [];
  const report: Problems = (what, found) => {
    if (found.length > 0) problems.push(`${found.length} ${what}, e.g. ${found.slice(0, 3).join(", ")}`);
  };
  const store = await checkStore(db, expected, report);
  const events = await checkEvents(db, flow, expected, report);
  const queues = checkQueues(flow, expected, report);
  return { problems, counts: { ...store, ...events, ...queues } };
}

/** Nothing lost, nothing doubled: exactly the valid keys stored, once; entity states match. */
async function checkStore(
  db: Kysely<EntityDatabase>,
  expected: SoakExpectations,
  report: Problems,
): Promise<Pick<SoakCounts, "entities" | "observations">> {
  const stored = (await db.selectFrom("observation").select("key").execute()).map((row) => row.key);
  const storedKeys = new Set(stored);
  report(
    "valid key(s) lost",
    [...expected.valid].filter((key) => !storedKeys.has(key)),
  );
  report(
    "stored key(s) that were never published as valid",
    stored.filter((key) => !expected.valid.has(key)),
  );
  report("duplicate observation(s)", repeated(stored));
  const names = new Set([...expected.valid].map(nameOf));
  const entities = (await db.selectFrom("entity").select("name").execute()).map((row) => row.name);
  report(
    "entities of names never published",
    entities.filter((name) => !names.has(name)),
  );
  const entityNames = new Set(entities);
  report(
    "names published without an entity",
    [...names].filter((name) => !entityNames.has(name)),
  );
  const wrongState = await sql<{ name: string }>`
    select e.name from entity e join (select name, max(observed_at) as latest, count(*)::int as n from observation group by name) o using (name)
    where e.latest_observed_at <> o.latest or e.observation_count <> o.n`.execute(db);
  report(
    "entities whose state does not match their observations",
    wrongState.rows.map((row) => row.name),
  );
  return { entities: entities.length, observations: stored.length };
}

/**
 * Every committed event of a publishable entity published and in the outbound queue; every event of an
 * unpublishable one parked with the refusal as its reason and never delivered; none pending; nothing
 * delivered that was not committed.
 */
async function checkEvents(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  expected: SoakExpectations,
  report: Problems,
): Promise<
  Omit<
    SoakCounts,
    "entities" | "observations" | "deadLettered" | "deadLetteredKeys" | "validKeysDeadLettered" | "queued"
  >
> {
  const events = await outboxRows(db);
  const deliveries = flow
    .bodies("OutboundEventsQueue")
    .map((body) => (JSON.parse(body) as { eventId: string }).eventId);
  const delivered = new Set(deliveries);
  const committed = new Set(events.map((event) => event.event_id));
  const unpublishable = events.filter((event) => isUnpublishable(event.entity_name));
  const publishable = events.filter((event) => !isUnpublishable(event.entity_name));
  const pending = events.filter((event) => !event.published && !event.parked);
  report(
    "event(s) still pending (stuck)",
    pending.map((event) => event.event_id),
  );
  report(
    "publishable event(s) not delivered",
    publishable
      .filter((event) => !delivered.has(event.event_id) || !event.published)
      .map((event) => event.event_id),
  );
  report(
    "publishable event(s) parked",
    publishable.filter((event) => event.parked).map((event) => `${event.event_id} (${event.last_error})`),
  );
  report(
    "unpublishable event(s) not parked with the refusal as reason (or delivered)",
    unpublishable
      .filter(
        (event) =>
          !event.parked || !(event.last_error ?? "").includes(REFUSAL.code) || delivered.has(event.event_id),
      )
      .map((event) => `${event.event_id} ${event.entity_name} (${event.last_error ?? "no error"})`),
  );
  report(
    "delivered event(s) never committed",
    [...delivered].filter((id) => !committed.has(id)),
  );
  return {
    events: events.length,
    eventsPublished: events.filter((event) => event.published).length,
    eventsParked: events.filter((event) => event.parked).length,
    eventsPending: pending.length,
    unpublishableEvents: unpublishable.length,
    flakyEvents: publishable.filter((event) => expected.isFlaky(event.event_id)).length,
    eventsRecovered: publishable.filter((event) => event.published && event.attempts > 1).length,
    outboundMessages: deliveries.length,
    eventsDelivered: delivered.size,
    duplicateDeliveries: deliveries.length - delivered.size,
  };
}

/** The DLQ holds exactly the poison keys (no valid key); nothing is left in the function's queue. */
function checkQueues(
  flow: LocalFlow,
  expected: SoakExpectations,
  report: Problems,
): Pick<SoakCounts, "deadLettered" | "deadLetteredKeys" | "validKeysDeadLettered" | "queued"> {
  const deadKeys = flow
    .bodies("EntityDeadLetterQueue")
    .map((body) => (JSON.parse(body) as { Message: string }).Message);
  const deadSet = new Set(deadKeys);
  const validDead = [...deadSet].filter((key) => expected.valid.has(key));
  report("valid key(s) in the DLQ", validDead);
  report(
    "poison key(s) not in the DLQ",
    [...expected.poison].filter((key) => !deadSet.has(key)),
  );
  report(
    "key(s) in the DLQ that were never published",
    [...deadSet].filter((key) => !expected.valid.has(key) && !expected.poison.has(key)),
  );
  const queued = flow.bodies("EntityQueue");
  report(
    "message(s) still in the function's queue (stuck)",
    queued.map((body) => body.slice(0, 80)),
  );
  return {
    deadLettered: deadKeys.length,
    deadLetteredKeys: deadSet.size,
    validKeysDeadLettered: validDead.length,
    queued: queued.length,
  };
}

async function outboxRows(db: Kysely<EntityDatabase>): Promise<OutboxRow[]> {
  const rows = await sql<OutboxRow>`
    select event_id, entity_name, published_at is not null as published, parked_at is not null as parked,
           attempts::int as attempts, last_error
    from outbox`.execute(db);
  return rows.rows;
}

/** Each value that occurs more than once, once per repeat. */
function repeated(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    if (seen.has(value)) return true;
    seen.add(value);
    return false;
  });
}
