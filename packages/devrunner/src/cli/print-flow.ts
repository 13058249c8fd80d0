import { setAsideByOriginalId, type SetAside } from "../local-aws/cloud/dead-letter-view.ts";
import type { BatchOutcome } from "../local-aws/cloud/event-source-mapping.ts";
import type { ScheduledRun } from "../local-aws/cloud/schedules.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import type { ReloadEvent } from "../local-aws/hot-reload.ts";
import { formatReport } from "../local-aws/runtime/function-worker.ts";

/** What `up` started, and how to use it. */
export function printFlowReady(flow: LocalFlow): void {
  const { cloud, queue, settings } = flow;
  const topic = [...cloud.topics.values()][0];
  process.stdout.write(
    [
      `local cloud up on ${cloud.endpoint}`,
      `  topic   ${topic?.arn ?? "(none)"}`,
      `  queue   ${queue.url} -> ${flow.prepared.definition.logicalId} (BatchSize ${settings.batchSize}, window ${settings.batchingWindowSeconds}s, concurrency ${settings.maximumConcurrency})`,
      `  dlq     ${flow.deadLetterQueue?.url ?? "(none)"} after ${flow.maxReceiveCount} receives`,
      `  events  ${flow.prepared.env.OUTBOUND_QUEUE_URL ?? "(none)"}`,
      "ready: `pnpm devrunner publish KEY...` from another terminal; Ctrl-C to stop",
      "",
    ].join("\n"),
  );
}

/** A batch as it happened: each record's fate, and where a failed (or set aside) one goes next. */
export function printBatch(outcome: BatchOutcome, flow: LocalFlow): void {
  const { records, failed, report } = outcome;
  const { maxReceiveCount, deadLetterQueue } = flow;
  // What the function moved to the DLQ itself (an invalid key, ...) it acknowledged: not "ok" to the reader.
  const setAside = deadLetterQueue
    ? setAsideByOriginalId(flow.cloud.server, deadLetterQueue.name)
    : new Map<string, SetAside>();
  const dead = records.filter(
    (record) => !failed.has(record.MessageId ?? "?") && setAside.has(record.MessageId ?? "?"),
  );
  const lines = [
    `batch of ${records.length} -> ${records.length - failed.size - dead.length} ok, ${failed.size} failed${dead.length > 0 ? `, ${dead.length} dead-lettered` : ""}  (${formatReport(report).replace(/\t/g, "  ")})`,
  ];
  for (const record of records) {
    const id = record.MessageId ?? "?";
    const receives = Number(record.Attributes?.ApproximateReceiveCount ?? 1);
    const letter = setAside.get(id);
    const body = summarise(record.Body ?? "");
    if (!failed.has(id) && letter) {
      lines.push(`  dead   ${id} ${body}  ${letter.code ?? "(no reason code)"} -> DLQ`);
      continue;
    }
    const status = !failed.has(id)
      ? "ok    "
      : maxReceiveCount > 0 && receives >= maxReceiveCount
        ? `failed (receive ${receives}: goes to the DLQ)`
        : `failed (receive ${receives}: retried after the visibility timeout)`;
    lines.push(`  ${status} ${id} ${body}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** A schedule's run, when it did something or failed (an idle relay every minute is not news). */
export function printScheduledRun(run: ScheduledRun): void {
  const { result } = run.report;
  const response = result.status === "ok" ? (result.response as Record<string, unknown> | null) : undefined;
  const busy =
    response && ["published", "failed", "parked"].some((field) => Number(response[field] ?? 0) > 0);
  if (result.status === "ok" && !busy) return;
  const what =
    result.status === "ok"
      ? JSON.stringify(response)
      : result.status === "error"
        ? `${result.error.errorType}: ${result.error.errorMessage}`
        : "timed out";
  process.stdout.write(
    `schedule ${run.logicalId}: ${what}  (${formatReport(run.report).replace(/\t/g, "  ")})\n`,
  );
}

/** A record's body in one short line: an SNS envelope's message, a JSON body's entity, or the text. */
function summarise(body: string): string {
  try {
    const parsed = JSON.parse(body) as { Message?: unknown; entity?: unknown };
    if (typeof parsed.Message === "string") return `sns: ${parsed.Message.slice(0, 120)}`;
    if (typeof parsed.entity === "string") return parsed.entity.slice(0, 120);
  } catch {
    // a plain key
  }
  return body.slice(0, 120);
}

/** A hot reload: the new code is live, or the build failed and the old code keeps serving. */
export function printReload(event: ReloadEvent): void {
  if (event.status === "reloaded")
    process.stdout.write(
      `reloaded (${event.reason}): built in ${event.buildMs.toFixed(0)} ms${event.bundlerMs === undefined ? "" : ` (bundler ${event.bundlerMs.toFixed(0)} ms)`}; the next message runs the new code\n`,
    );
  else if (event.status === "warm")
    process.stdout.write(
      `new code warm: init ${event.initMs.toFixed(0)} ms, ${event.sinceChangeMs.toFixed(0)} ms after the change\n`,
    );
  else
    process.stderr.write(
      `reload failed (${event.reason}); the previous build keeps serving:\n${event.error.message}\n`,
    );
}
