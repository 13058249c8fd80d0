import type { EntityDatabase } from "@entity/adapters/postgres";
import { sql, type Kysely } from "kysely";
import type { LocalFlow } from "../cloud/local-flow.ts";
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

/** Checks the end state against what was published: every problem found, and the figures. */
export async function checkSoak(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  expected: SoakExpectations,
): Promise<{ problems: string[]; counts: SoakCounts }> {
  const problems: string[] = [];
  const note = (count: number, what: string, examples: readonly string[]): void => {
    if (count > 0) problems.push(`${count} ${what}, e.g. ${examples.slice(0, 3).join(", ")}`);
  };

  const stored = (await db.selectFrom("observation").select("key").execute()).map((row) => row.key);
  const storedKeys = new Set(stored);
  const names = new Set([...expected.valid].map(nameOf));
  note(
    [...expected.valid].filter((key) => !storedKeys.has(key)).length,
    "valid key(s) lost",
    [...expected.valid].filter((key) => !storedKeys.has(key)),
  );
  note(
    stored.filter((key) => !expected.valid.has(key)).length,
    "stored key(s) that were never published as valid",
    stored.filter((key) => !expected.valid.has(key)),
  );
  if (stored.length !== storedKeys.size)
    problems.push(`${stored.length - storedKeys.size} duplicate observation(s)`);
  const entities = Number(
    (await sql<{ n: number }>`select count(*)::int as n from entity`.execute(db)).rows[0]?.n ?? 0,
  );
  if (entities !== names.size) problems.push(`${entities} entities, expected ${names.size} distinct names`);
  const wrongState = await sql<{ name: string }>`
    select e.name from entity e join (select name, max(observed_at) as latest, count(*)::int as n from observation group by name) o using (name)
    where e.latest_observed_at <> o.latest or e.observation_count <> o.n`.execute(db);
  note(
    wrongState.rows.length,
    "entities whose state does not match their observations",
    wrongState.rows.map((r) => r.name),
  );

  const events = await outboxRows(db);
  const deliveries = flow
    .bodies("OutboundEventsQueue")
    .map((body) => (JSON.parse(body) as { eventId: string }).eventId);
  const delivered = new Set(deliveries);
  const committed = new Set(events.map((event) => event.event_id));
  const unpublishable = events.filter((event) => isUnpublishable(event.entity_name));
  const publishable = events.filter((event) => !isUnpublishable(event.entity_name));
  const pending = events.filter((event) => !event.published && !event.parked);
  note(
    pending.length,
    "event(s) still pending (stuck)",
    pending.map((event) => event.event_id),
  );
  const undelivered = publishable.filter((event) => !delivered.has(event.event_id) || !event.published);
  note(
    undelivered.length,
    "publishable event(s) not delivered",
    undelivered.map((event) => event.event_id),
  );
  const wronglyParked = publishable.filter((event) => event.parked);
  note(
    wronglyParked.length,
    "publishable event(s) parked",
    wronglyParked.map((e) => `${e.event_id} (${e.last_error})`),
  );
  const notRefused = unpublishable.filter(
    (event) =>
      !event.parked || !(event.last_error ?? "").includes(REFUSAL.code) || delivered.has(event.event_id),
  );
  note(
    notRefused.length,
    "unpublishable event(s) not parked with the refusal as reason (or delivered)",
    notRefused.map((event) => `${event.event_id} ${event.entity_name} (${event.last_error ?? "no error"})`),
  );
  const strangers = [...delivered].filter((id) => !committed.has(id));
  note(strangers.length, "delivered event(s) never committed", strangers);

  const deadKeys = flow
    .bodies("EntityDeadLetterQueue")
    .map((body) => (JSON.parse(body) as { Message: string }).Message);
  const deadSet = new Set(deadKeys);
  const validDead = [...deadSet].filter((key) => expected.valid.has(key));
  note(validDead.length, "valid key(s) in the DLQ", validDead);
  const poisonMissing = [...expected.poison].filter((key) => !deadSet.has(key));
  note(poisonMissing.length, "poison key(s) not in the DLQ", poisonMissing);
  if (deadSet.size !== expected.poison.size || poisonMissing.length > 0)
    problems.push(`DLQ holds ${deadSet.size} keys, expected exactly the ${expected.poison.size} poison keys`);
  const queued = flow.bodies("EntityQueue").length;
  if (queued > 0) problems.push(`${queued} message(s) still in the function's queue (stuck)`);

  const flaky = publishable.filter((event) => expected.isFlaky(event.event_id));
  return {
    problems,
    counts: {
      entities,
      observations: stored.length,
      events: events.length,
      eventsPublished: events.filter((event) => event.published).length,
      eventsParked: events.filter((event) => event.parked).length,
      eventsPending: pending.length,
      unpublishableEvents: unpublishable.length,
      flakyEvents: flaky.length,
      eventsRecovered: publishable.filter((event) => event.published && event.attempts > 1).length,
      outboundMessages: deliveries.length,
      eventsDelivered: delivered.size,
      duplicateDeliveries: deliveries.length - delivered.size,
      deadLettered: deadKeys.length,
      deadLetteredKeys: deadSet.size,
      validKeysDeadLettered: validDead.length,
      queued,
    },
  };
}

async function outboxRows(db: Kysely<EntityDatabase>): Promise<OutboxRow[]> {
  const rows = await sql<OutboxRow>`
    select event_id, entity_name, published_at is not null as published, parked_at is not null as parked,
           attempts::int as attempts, last_error
    from outbox`.execute(db);
  return rows.rows;
}
