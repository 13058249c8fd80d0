import type { OutboxEntry } from "@entity/domain";
import type { DevApp } from "../root.ts";
import type { Output } from "./output.ts";
import { describeTarget } from "./target.ts";

/** Puts parked events back in line (all, or the ids given) and prints which; 1 when an id was not parked. */
export async function redriveOutbox(app: DevApp, ids: readonly string[], output: Output): Promise<number> {
  const redriven = await app.service.redriveOutbox(ids.length > 0 ? ids : undefined);
  const missing = ids.filter((id) => !redriven.includes(id));
  for (const id of redriven) output.line(`redriven  ${id}`);
  for (const id of missing) output.note(`not parked: ${id}`);
  output.line(`${redriven.length} event(s) put back in line; the relay publishes them on its next run`);
  output.result({ target: describeTarget(app.target), redriven, notParked: missing });
  return missing.length > 0 ? 1 : 0;
}

/** Lists the outbox's pending and/or parked events, one line each. */
export async function listOutbox(
  app: DevApp,
  state: "pending" | "parked" | "all",
  limit: number,
  output: Output,
): Promise<number> {
  const states: ("pending" | "parked")[] = state === "all" ? ["pending", "parked"] : [state];
  const entries = await app.service.listOutbox({ states, limit });
  for (const entry of entries) output.line(describeEntry(entry));
  output.line(`${entries.length} event(s) ${state === "all" ? "pending or parked" : state}`);
  output.result({ target: describeTarget(app.target), events: entries });
  return 0;
}

function describeEntry(entry: OutboxEntry): string {
  const { event } = entry;
  const when =
    entry.state === "parked"
      ? `parked ${entry.parkedAt?.toISOString() ?? "?"}`
      : `next attempt ${entry.nextAttemptAt?.toISOString() ?? "?"}`;
  const error = entry.lastError ? `  last error: ${entry.lastError}` : "";
  return `${entry.state.padEnd(8)} ${event.eventId}  ${event.type} ${event.entityName}  attempts=${entry.attempts}  ${when}${error}`;
}
