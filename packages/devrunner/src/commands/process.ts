import { randomUUID } from "node:crypto";
import { eventsToDeliver, type ProcessResult } from "@entity/domain";
import { parseCommandArgs } from "../cli/args.ts";
import { openDevApp, type DevApp } from "../root.ts";
import { UsageError } from "../cli/errors.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import { createOutput, type Output } from "../cli/output.ts";
import { describeTarget, OUTPUT_OPTIONS, resolveTarget, TARGET_OPTIONS } from "../cli/target.ts";

export const PROCESS_HELP = `devrunner process KEY... [options]

Runs the domain on each key, as the Lambda would, straight from the terminal.

Options:
  --db memory|pglite|postgres  where to write (default: Postgres when DATABASE_URL or DB_HOST is set,
                               else the embedded PGlite folder)
  --env-file FILE              dotenv file laid over the environment (e.g. personal/dev.env for a tunnelled RDS)
  --data-dir DIR               the embedded database's folder (default .devrunner/pglite)
  --allow-prod                 allow a production ENV (prod, production, prd, prod-*; or the names in
                               package.json's devrunner.productionEnvironments)
  --json                       one JSON document on stdout
  -h, --help

Exit codes: 0 all keys accepted, 1 a key was invalid or failed, 2 bad usage, 3 production refused.`;

export const PROCESS_OPTIONS = { ...TARGET_OPTIONS, ...OUTPUT_OPTIONS } as const;

export async function processCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("process", argv, PROCESS_OPTIONS);
  if (values.help) {
    process.stdout.write(`${PROCESS_HELP}\n`);
    return 0;
  }
  if (positionals.length === 0)
    throw new UsageError("process: give at least one KEY\nrun `devrunner process --help` for usage");
  recordLastCommand("process", argv);
  const { env, target } = resolveTarget(values);
  const output = createOutput(values.json);
  output.note(`target: ${describeTarget(target)}`);
  const app = await openDevApp({ target, env });
  try {
    return await runProcess(app, positionals, output);
  } finally {
    await app.close();
  }
}

/** Processes keys and delivers their events, as the Lambda does; returns the exit code. Shared with `watch`. */
export async function runProcess(app: DevApp, keys: readonly string[], output: Output): Promise<number> {
  const results = await app.service.processEntities(
    keys.map((key) => ({ key, messageId: `devrunner-${randomUUID()}` })),
  );
  const delivery = await app.service.deliverEvents(results);
  for (const result of results) output.line(describeResult(result));
  const published = new Set(delivery.published);
  const parked = new Set(delivery.parked.map((event) => event.eventId));
  for (const event of eventsToDeliver(results)) {
    const state = published.has(event.eventId)
      ? "published"
      : parked.has(event.eventId)
        ? "parked   "
        : "pending  ";
    output.line(`  ${state} ${event.type} ${event.eventId} -> ${app.eventsTo}`);
  }
  if (delivery.error) output.note(`events stay pending: ${delivery.error.message}`);
  for (const event of delivery.parked) output.note(`event ${event.eventId} parked: ${event.reason}`);
  output.result({
    target: describeTarget(app.target),
    results: results.map((result) => ({
      messageId: result.messageId,
      outcome: result.outcome,
      ...(result.outcome === "invalid"
        ? { input: result.input, reason: result.reason }
        : { key: result.key.key }),
      ...(result.outcome === "failed"
        ? { error: { code: result.error.code, message: result.error.message } }
        : {}),
      ...("event" in result && result.event
        ? { event: result.event, published: published.has(result.event.eventId) }
        : {}),
    })),
  });
  return results.some((result) => result.outcome === "invalid" || result.outcome === "failed") ? 1 : 0;
}

function describeResult(result: ProcessResult): string {
  switch (result.outcome) {
    case "invalid":
      return `${"invalid".padEnd(9)} ${JSON.stringify(result.input)} ${result.reason.code}: ${result.reason.message}`;
    case "failed":
      return `${"failed".padEnd(9)} ${result.key.key} ${result.error.code}: ${result.error.message}`;
    case "created":
    case "updated":
    case "stale":
    case "duplicate":
      return `${result.outcome.padEnd(9)} ${result.key.key}`;
  }
}
