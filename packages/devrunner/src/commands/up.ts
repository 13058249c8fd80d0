import { parseCommandArgs, parseParameterOverrides, readJsonFile } from "../cli/args.ts";
import type { BatchOutcome } from "../local-aws/cloud/event-source-mapping.ts";
import { startLocalFlow } from "../local-aws/flow.ts";
import { removeUpState, writeUpState } from "../local-aws/cloud/state.ts";
import { UsageError } from "../cli/errors.ts";
import { validateEnvVarsFile } from "../local-aws/prepare.ts";
import { userPath } from "../cli/paths.ts";
import { formatReport } from "../local-aws/runtime/function-worker.ts";
import { refuseProduction } from "../local-aws/production.ts";
import {
  embeddedDataDir,
  loadCommandEnvironment,
  productionPolicy,
  localAwsConfigFor,
} from "../cli/target.ts";
import type { ScheduledRun } from "../local-aws/cloud/schedules.ts";
import { FUNCTION_OPTIONS } from "./invoke.ts";

export const UP_HELP = `devrunner up [FunctionLogicalId] [options]

The local cloud: starts an SNS/SQS emulator (fauxqs) in this process, creates the template's topic,
queues, dead-letter queue, subscription and redrive policy, and runs a local event-source mapping for the
function: long-polls with the template's BatchSize and batching window, invokes the built function in warm
execution environments (MaximumConcurrency of them), deletes what succeeded and leaves failures to come
back after the visibility timeout, to the DLQ after maxReceiveCount. Shows each batch as it happens.
From another terminal: \`devrunner publish KEY...\`, \`devrunner dlq [--redrive]\`. Ctrl-C stops it.

Options:
  --port N                    emulator port (default 4566; 0 picks a free one)
  --visibility-timeout S      override every queue's VisibilityTimeout (seconds) for faster retries; at
                              least the function's Timeout, as AWS requires of an SQS event source
                              (a template copy with a shorter Timeout allows a shorter one)
  --schedule-period S         run the template's schedules (the outbox relay, rate(1 minute)) every S seconds
  -n, --env-vars FILE         SAM env-vars JSON (as for invoke)
  -t, --template FILE         default template.yaml
  --parameter-overrides "K=V ..."
  --env-file FILE, --data-dir DIR, --allow-prod   as for invoke
  -h, --help

Exit codes: 0 stopped with Ctrl-C, 2 bad usage, 3 production refused.`;

export async function upCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("up", argv, {
    port: { type: "string", default: "4566" },
    "visibility-timeout": { type: "string" },
    "schedule-period": { type: "string" },
    ...FUNCTION_OPTIONS,
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${UP_HELP}\n`);
    return 0;
  }
  const port = wholeNumber("--port", values.port);
  const visibilityTimeout =
    values["visibility-timeout"] === undefined
      ? undefined
      : wholeNumber("--visibility-timeout", values["visibility-timeout"]);
  const { env: hostEnv, names } = loadCommandEnvironment(values["env-file"] && userPath(values["env-file"]));
  const production = productionPolicy(values["allow-prod"]);
  refuseProduction(names, production);
  const envVarsPath = values["env-vars"] && userPath(values["env-vars"]);
  const config = localAwsConfigFor(hostEnv);
  const flow = await startLocalFlow({
    config,
    templatePath: userPath(values.template),
    templateLabel: values.template,
    logicalId: positionals[0],
    envVars: envVarsPath
      ? validateEnvVarsFile(readJsonFile(envVarsPath, "env-vars file"), envVarsPath)
      : undefined,
    envVarsPath,
    parameterOverrides: parseParameterOverrides(values["parameter-overrides"]),
    production,
    dataDir: embeddedDataDir(hostEnv, values["data-dir"] && userPath(values["data-dir"])),
    port,
    visibilityTimeoutSeconds: visibilityTimeout,
    logSink: (chunk) => process.stderr.write(chunk),
    onBatch: (outcome) => printBatch(outcome, flow.maxReceiveCount),
    onError: (error) => process.stderr.write(`event-source mapping: ${(error as Error).message}\n`),
    ...(values["schedule-period"] === undefined
      ? {}
      : { schedulePeriodMs: positiveNumber("--schedule-period", values["schedule-period"]) * 1000 }),
    onScheduledRun: printScheduledRun,
    note: (text) => void process.stderr.write(`${text}\n`),
  });
  const { cloud, queue, settings } = flow;
  const topic = [...cloud.topics.values()][0];
  const outbound = flow.prepared.env.OUTBOUND_QUEUE_URL;
  writeUpState(config.stateFile, {
    pid: process.pid,
    endpoint: cloud.endpoint,
    region: cloud.region,
    topicArn: topic?.arn ?? "",
    queueUrl: queue.url,
    dlqUrl: flow.deadLetterQueue?.url,
    outboundQueueUrl: outbound,
  });
  process.stdout.write(
    [
      `local cloud up on ${cloud.endpoint}`,
      `  topic   ${topic?.arn ?? "(none)"}`,
      `  queue   ${queue.url} -> ${flow.prepared.definition.logicalId} (BatchSize ${settings.batchSize}, window ${settings.batchingWindowSeconds}s, concurrency ${settings.maximumConcurrency})`,
      `  dlq     ${flow.deadLetterQueue?.url ?? "(none)"} after ${flow.maxReceiveCount} receives`,
      `  events  ${outbound ?? "(none)"}`,
      "ready: `pnpm devrunner publish KEY...` from another terminal; Ctrl-C to stop",
      "",
    ].join("\n"),
  );

  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  process.stdout.write("stopping\n");
  removeUpState(config.stateFile);
  await flow.stop();
  return 0;
}

function printBatch(outcome: BatchOutcome, maxReceiveCount: number): void {
  const { records, failed, report } = outcome;
  const lines = [
    `batch of ${records.length} -> ${records.length - failed.size} ok, ${failed.size} failed  (${formatReport(report).replace(/\t/g, "  ")})`,
  ];
  for (const record of records) {
    const id = record.MessageId ?? "?";
    const receives = Number(record.Attributes?.ApproximateReceiveCount ?? 1);
    const status = !failed.has(id)
      ? "ok    "
      : maxReceiveCount > 0 && receives >= maxReceiveCount
        ? "failed (receive ${receives}: goes to the DLQ)"
        : `failed (receive ${receives}: retried after the visibility timeout)`;
    lines.push(`  ${status.replace("${receives}", String(receives))} ${id} ${summarise(record.Body ?? "")}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** A schedule's run, when it did something or failed (an idle relay every minute is not news). */
function printScheduledRun(run: ScheduledRun): void {
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

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, not '${text}'`);
  return value;
}

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

function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, not '${text}'`);
  return Number(text);
}
