import { SQSClient } from "@aws-sdk/client-sqs";
import { resolveTemplateValue } from "@entity/adapters/sam";
import { resolve } from "node:path";
import { parseCommandArgs, readJsonFile } from "../args.ts";
import {
  LocalEventSourceMapping,
  type BatchOutcome,
  type MappingSettings,
} from "../cloud/event-source-mapping.ts";
import { LOCAL_REGION, startLocalCloud } from "../cloud/local-cloud.ts";
import { removeUpState, writeUpState } from "../cloud/state.ts";
import { UsageError } from "../errors.ts";
import { loadTemplate, pickFunction, prepareFunction, validateEnvVarsFile } from "../invocation.ts";
import { userPath } from "../paths.ts";
import { FUNCTION_OPTIONS, parseParameterOverrides } from "./invoke.ts";
import { FunctionWorker, formatReport } from "../runtime/function-worker.ts";
import { commandEnvironment, DEFAULT_PGLITE_DIR, guardProduction } from "../target.ts";

export const UP_HELP = `devrunner up [FunctionLogicalId] [options]

The local cloud: starts an SNS/SQS emulator (fauxqs) in this process, creates the template's topic,
queues, dead-letter queue, subscription and redrive policy, and runs a local event-source mapping for the
function: long-polls with the template's BatchSize and batching window, invokes the built function in warm
execution environments (MaximumConcurrency of them), deletes what succeeded and leaves failures to come
back after the visibility timeout, to the DLQ after maxReceiveCount. Shows each batch as it happens.
From another terminal: \`devrunner publish KEY...\`, \`devrunner dlq [--redrive]\`. Ctrl-C stops it.

Options:
  --port N                    emulator port (default 4566; 0 picks a free one)
  --visibility-timeout S      override every queue's VisibilityTimeout (seconds) for faster retries
  -n, --env-vars FILE         SAM env-vars JSON (as for invoke)
  -t, --template FILE         default template.yaml
  --parameter-overrides "K=V ..."
  --env-file FILE, --data-dir DIR, --allow-prod   as for invoke
  -h, --help`;

export async function upCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("up", argv, {
    port: { type: "string", default: "4566" },
    "visibility-timeout": { type: "string" },
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
  const hostEnv = commandEnvironment(values["env-file"] && userPath(values["env-file"]));
  guardProduction(hostEnv, values["allow-prod"]);
  const templatePath = userPath(values.template);
  const template = loadTemplate(templatePath);
  const definition = pickFunction(template, positionals[0]);
  const parameterOverrides = parseParameterOverrides(values["parameter-overrides"]);
  const note = (text: string): void => void process.stderr.write(`${text}\n`);

  const cloud = await startLocalCloud(template, {
    port,
    ...(visibilityTimeout !== undefined ? { visibilityTimeoutSeconds: visibilityTimeout } : {}),
  });
  const envVarsPath = values["env-vars"] && userPath(values["env-vars"]);
  const prepared = await prepareFunction({
    templatePath,
    logicalId: definition.logicalId,
    envVars: envVarsPath
      ? validateEnvVarsFile(readJsonFile(envVarsPath, "env-vars file"), envVarsPath)
      : undefined,
    envVarsPath,
    parameterOverrides,
    hostEnv,
    dataDir: resolve(
      values["data-dir"] ? userPath(values["data-dir"]) : (hostEnv.DEVRUNNER_DATA_DIR ?? DEFAULT_PGLITE_DIR),
    ),
    cloud,
    note,
  });

  const events = Object.values(
    (definition.properties.Events ?? {}) as Record<
      string,
      { Type?: string; Properties?: Record<string, unknown> }
    >,
  );
  const sqsEvent = events.find((event) => event.Type === "SQS");
  if (!sqsEvent?.Properties)
    throw new UsageError(`${definition.logicalId} has no SQS event source in the template`);
  const value = (raw: unknown, fallback: number): number =>
    Number(resolveTemplateValue(raw, parameterOverrides, template, cloud.resolveResource) ?? fallback);
  const queueArn = resolveTemplateValue(
    sqsEvent.Properties.Queue,
    parameterOverrides,
    template,
    cloud.resolveResource,
  );
  const queue = [...cloud.queues.values()].find((candidate) => candidate.arn === queueArn);
  if (!queue)
    throw new UsageError(
      `cannot find the SQS event source's queue (${JSON.stringify(sqsEvent.Properties.Queue)}) among the template's queues`,
    );
  const scaling = (sqsEvent.Properties.ScalingConfig ?? {}) as { MaximumConcurrency?: unknown };
  const settings: MappingSettings = {
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: LOCAL_REGION,
    batchSize: value(sqsEvent.Properties.BatchSize, 10),
    batchingWindowSeconds: value(sqsEvent.Properties.MaximumBatchingWindowInSeconds, 0),
    maximumConcurrency: Math.max(1, value(scaling.MaximumConcurrency, 2)),
    reportBatchItemFailures:
      Array.isArray(sqsEvent.Properties.FunctionResponseTypes) &&
      sqsEvent.Properties.FunctionResponseTypes.includes("ReportBatchItemFailures"),
  };
  const redrive = template.resources[queue.logicalId]?.Properties?.RedrivePolicy as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  const dlq = [...cloud.queues.values()].find(
    (candidate) =>
      candidate.arn ===
      resolveTemplateValue(redrive?.deadLetterTargetArn, {}, template, cloud.resolveResource),
  );
  const maxReceiveCount = Number(redrive?.maxReceiveCount ?? 0);
  const topic = [...cloud.topics.values()][0];
  const outbound = prepared.env.OUTBOUND_QUEUE_URL;

  const workers = Array.from(
    { length: settings.maximumConcurrency },
    () =>
      new FunctionWorker({
        env: prepared.env,
        timeoutMs: definition.timeoutSeconds * 1000,
        memorySizeMb: definition.memorySizeMb,
        logSink: (chunk) => process.stderr.write(chunk),
      }),
  );
  const client = new SQSClient({
    endpoint: cloud.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const mapping = new LocalEventSourceMapping({
    settings,
    client,
    workers,
    onBatch: (outcome) => printBatch(outcome, maxReceiveCount),
    onError: (error) => note(`event-source mapping: ${(error as Error).message}`),
  });
  writeUpState({
    pid: process.pid,
    endpoint: cloud.endpoint,
    region: LOCAL_REGION,
    topicArn: topic?.arn ?? "",
    queueUrl: queue.url,
    dlqUrl: dlq?.url,
    outboundQueueUrl: outbound,
  });
  mapping.start();
  process.stdout.write(
    [
      `local cloud up on ${cloud.endpoint}`,
      `  topic   ${topic?.arn ?? "(none)"}`,
      `  queue   ${queue.url} -> ${definition.logicalId} (BatchSize ${settings.batchSize}, window ${settings.batchingWindowSeconds}s, concurrency ${settings.maximumConcurrency})`,
      `  dlq     ${dlq?.url ?? "(none)"} after ${maxReceiveCount} receives`,
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
  await mapping.stop();
  client.destroy();
  removeUpState();
  await prepared.close();
  await cloud.stop();
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
