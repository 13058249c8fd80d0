import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { listOutbox, redriveOutbox } from "../cli/outbox-report.ts";
import { createOutput } from "../cli/output.ts";
import { TARGET_FLAGS, describeTarget, resolveTarget } from "../cli/target.ts";
import { openDevApp } from "../root.ts";

export const OUTBOX_SPEC = {
  name: "outbox",
  synopsis:
    "outbox [--state pending|parked|all] [--limit N] [--json] [options]\ndevrunner outbox --redrive [EVENT_ID...] [options]",
  description: `Lists the outbox's events that are not published yet: pending ones (waiting for their next attempt) and
parked ones (given up on after OUTBOX_MAX_ATTEMPTS failed attempts, or at once when the queue refused
them for good), with attempts and the last error. --redrive puts parked events back in line (all of them,
or the ids given); the relay (the schedule, or the next delivery) then publishes them.`,
  flags: ["state", "limit", "redrive", ...TARGET_FLAGS, "json"],
  positionals: "any",
  flagHelp: { redrive: "put parked events back (all when no EVENT_ID is given)" },
  exitCodes:
    "Exit codes: 0 done, 1 an id given to --redrive was not parked, 2 bad usage, 3 production refused.",
} as const satisfies CommandSpec<"state" | "limit" | "redrive" | (typeof TARGET_FLAGS)[number] | "json">;

export function outboxCommand(argv: readonly string[]): Promise<number> {
  return runCommand(OUTBOX_SPEC, argv, async (values, ids) => {
    const state = values.state;
    if (state !== "pending" && state !== "parked" && state !== "all")
      throw new UsageError(`outbox: --state must be pending, parked or all, not '${state}'`);
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1)
      throw new UsageError(`outbox: --limit must be a positive whole number, not '${values.limit}'`);
    if (ids.length > 0 && !values.redrive)
      throw new UsageError(`outbox: event ids are for --redrive (got ${ids.join(", ")})`);
    const { env, target } = resolveTarget(values, { readOnly: !values.redrive });
    const output = createOutput(values.json);
    output.note(`target: ${describeTarget(target)}`);
    const app = await openDevApp({ target, env });
    try {
      return values.redrive
        ? await redriveOutbox(app, ids, output)
        : await listOutbox(app, state, Number(values.limit), output);
    } finally {
      await app.close();
    }
  });
}
