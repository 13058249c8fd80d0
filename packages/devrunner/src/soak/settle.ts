import type { EntityDatabase } from "@entity/adapters/postgres";
import { sql, type Kysely } from "kysely";
import type { LocalFlow } from "../local-aws/flow.ts";

/** Polls every second until `isSettled` or the deadline; false when the deadline came first. */
export async function waitUntilSettled(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  keys: { valid: ReadonlySet<string>; poison: ReadonlySet<string> },
  options: { deadline: number; tick: () => Promise<void> },
): Promise<boolean> {
  for (;;) {
    if (await isSettled(db, flow, keys)) return true;
    if (Date.now() >= options.deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await options.tick();
  }
}

/** Every valid key stored, every poison key dead-lettered, the queue empty and no event pending. */
async function isSettled(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  keys: { valid: ReadonlySet<string>; poison: ReadonlySet<string> },
): Promise<boolean> {
  const row = await sql<{ observations: number; pending: number }>`
    select (select count(*)::int from observation) as observations,
           (select count(*)::int from outbox where published_at is null and parked_at is null) as pending`.execute(
    db,
  );
  const { observations, pending } = row.rows[0]!;
  const deadKeys = new Set(
    flow.bodies("EntityDeadLetterQueue").map((body) => (JSON.parse(body) as { Message: string }).Message),
  );
  return (
    observations >= keys.valid.size &&
    deadKeys.size >= keys.poison.size &&
    pending === 0 &&
    flow.bodies("EntityQueue").length === 0
  );
}

/** Where the run stands: keys stored, dead-lettered and queued, events pending and parked. */
export async function progressLine(db: Kysely<EntityDatabase>, flow: LocalFlow): Promise<string> {
  const row = await sql<{ observations: number; pending: number; parked: number }>`
    select (select count(*)::int from observation) as observations,
           (select count(*)::int from outbox where published_at is null and parked_at is null) as pending,
           (select count(*)::int from outbox where parked_at is not null) as parked`.execute(db);
  const { observations, pending, parked } = row.rows[0]!;
  return `${observations} keys stored, ${flow.bodies("EntityDeadLetterQueue").length} dead-lettered, ${flow.bodies("EntityQueue").length} queued, events ${pending} pending / ${parked} parked`;
}
