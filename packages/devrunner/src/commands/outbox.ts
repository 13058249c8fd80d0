import type { OutboxEntry } from "@entity/domain";
import { parseCommandArgs } from "../cli/args.ts";
import { openDevApp } from "../root.ts";
import { UsageError } from "../cli/errors.ts";
import { createOutput } from "../cli/output.ts";
import { describeTarget, OUTPUT_OPTIONS, resolveTarget, TARGET_OPTIONS } from "../cli/target.ts";

export const OUTBOX_HELP = `devrunner outbox [--state pending|parked|all] [--limit N] [--json] [options]
devrunner outbox --redrive [EVENT_ID...] [options]

Lists the outbox's events that are not published yet: pending ones (waiting for their next attempt) and
parked ones (given up on after OUTBOX_MAX_ATTEMPTS failed attempts, or at once when the queue refused
them for good), with attempts and the last error. --redrive puts parked events back in line (all of them,
or the ids given); the relay (the schedule, or the next delivery) then publishes them.

Options:
  --state pending|parked|all   which events to list (default all)
  --limit N                    at most N events (default 100)
  --redrive [EVENT_ID...]      put parked events back (all when no id is given)
  --db pglite|postgres, --env-file FILE, --data-dir DIR, --allow-prod, --json   as for \`process\`
  -h, --help

Exit codes: 0 done, 1 an id given to --redrive was not parked, 2 bad usage, 3 production refused.`;

export async function outboxCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("outbox", argv, {
    state: { type: "string", default: "all" },
    limit: { type: "string", default: "100" },
    redrive: { type: "boolean", default: false },
    ...TARGET_OPTIONS,
    ...OUTPUT_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(`${OUTBOX_HELP}\n`);
    return 0;
  }
  const states = { pending: ["pending"], parked: ["parked"], all: ["pending", "parked"] }[values.state] as
    ("pending" | "parked")[] | undefined;
  if (!states) throw new UsageError(`outbox: --state must be pending, parked or all, not '${values.state}'`);
  if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1)
    throw new UsageError(`outbox: --limit must be a positive whole number, not '${values.limit}'`);
  if (positionals.length > 0 && !values.redrive)
    throw new UsageError(`outbox: event ids are for --redrive (got ${positionals.join(", ")})`);
  const { env, target } = resolveTarget(values, { readOnly: !values.redrive });
  const output = createOutput(values.json);
  output.note(`target: ${describeTarget(target)}`);
  const app = await openDevApp({ target, env });
  try {
    if (values.redrive) {
      const redriven = await app.service.redriveOutbox(positionals.length > 0 ? positionals : undefined);
      const missing = positionals.filter((id) => !redriven.includes(id));
      for (const id of redriven) output.line(`redriven  ${id}`);
      for (const id of missing) output.note(`not parked: ${id}`);
      output.line(`${redriven.length} event(s) put back in line; the relay publishes them on its next run`);
      output.result({ target: describeTarget(target), redriven, notParked: missing });
      return missing.length > 0 ? 1 : 0;
    }
    const entries = await app.service.listOutbox({ states, limit: Number(values.limit) });
    for (const entry of entries) output.line(describeEntry(entry));
    output.line(`${entries.length} event(s) ${values.state === "all" ? "pending or parked" : values.state}`);
    output.result({ target: describeTarget(target), events: entries });
    return 0;
  } finally {
    await app.close();
  }
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
