import { randomUUID } from "node:crypto";
import { eventsToDeliver, type DeliveryResult, type ProcessResult } from "@entity/domain";
import type { DevApp } from "../root.ts";
import type { Output } from "./output.ts";
import { describeTarget } from "./target.ts";

/** Processes keys and delivers their events, as the Lambda does, and prints both; the exit code. */
export async function runProcess(app: DevApp, keys: readonly string[], output: Output): Promise<number> {
  const results = await app.service.processEntities(
    keys.map((key) => ({ key, messageId: `devrunner-${randomUUID()}` })),
  );
  const delivery = await app.service.deliverEvents(results);
  printProcess(app, results, delivery, output);
  return results.some((result) => result.outcome === "invalid" || result.outcome === "failed") ? 1 : 0;
}

function printProcess(
  app: DevApp,
  results: readonly ProcessResult[],
  delivery: DeliveryResult,
  output: Output,
): void {
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
