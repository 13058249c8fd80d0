import { SQSClient } from "@aws-sdk/client-sqs";
import { LocalEventSourceMapping, type BatchOutcome } from "./event-source-mapping.ts";
import { LOCAL_REGION, startLocalCloud, type LocalCloud, type LocalQueue } from "./local-cloud.ts";
import {
  loadTemplate,
  pickFunction,
  prepareFunction,
  type EnvVarsFile,
  type PreparedFunction,
} from "../invocation.ts";
import { FunctionWorker } from "../runtime/function-worker.ts";

export interface LocalFlowOptions {
  readonly templatePath: string;
  readonly functionEnv: EnvVarsFile[string];
  readonly dataDir: string;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly visibilityTimeoutSeconds: number;
  readonly onBatch?: (outcome: BatchOutcome) => void;
  readonly note?: (text: string) => void;
}

export interface LocalFlow {
  readonly cloud: LocalCloud;
  readonly prepared: PreparedFunction;
  readonly queue: LocalQueue;
  readonly outcomes: readonly BatchOutcome[];
  /** Bodies of the messages now in a queue of the template (by logical id), without consuming them. */
  bodies(logicalId: string): string[];
  stop(): Promise<void>;
}

/**
 * The SNS -> SQS -> EntityFunction flow in this process, for tests and the soak: the template's queues
 * and topic in fauxqs, the built function in warm workers, a local event-source mapping between them.
 */
export async function startLocalFlow(options: LocalFlowOptions): Promise<LocalFlow> {
  const template = loadTemplate(options.templatePath);
  const definition = pickFunction(template, "EntityFunction");
  const cloud = await startLocalCloud(template, {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
  });
  const prepared = await prepareFunction({
    templatePath: options.templatePath,
    logicalId: definition.logicalId,
    envVars: { EntityFunction: options.functionEnv },
    envVarsPath: "local flow",
    parameterOverrides: {},
    hostEnv: process.env,
    dataDir: options.dataDir,
    cloud,
    note: options.note ?? (() => undefined),
  });
  const queueLogicalId =
    Object.entries(template.resources).find(
      ([, r]) => r.Type === "AWS::SQS::Queue" && r.Properties?.RedrivePolicy,
    )?.[0] ?? "EntityQueue";
  const queue = cloud.queues.get(queueLogicalId)!;
  const workers = Array.from(
    { length: options.concurrency },
    () =>
      new FunctionWorker({
        env: prepared.env,
        timeoutMs: definition.timeoutSeconds * 1000,
        memorySizeMb: definition.memorySizeMb,
        logSink: () => undefined,
      }),
  );
  const outcomes: BatchOutcome[] = [];
  const client = new SQSClient({
    endpoint: cloud.endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const mapping = new LocalEventSourceMapping({
    settings: {
      queueUrl: queue.url,
      queueArn: queue.arn,
      region: LOCAL_REGION,
      batchSize: options.batchSize,
      batchingWindowSeconds: 0,
      maximumConcurrency: options.concurrency,
      reportBatchItemFailures: true,
    },
    client,
    workers,
    onBatch: (outcome) => {
      outcomes.push(outcome);
      options.onBatch?.(outcome);
    },
    onError: () => undefined,
  });
  mapping.start();
  return {
    cloud,
    prepared,
    queue,
    outcomes,
    bodies: (logicalId) => {
      const inspected = cloud.server.inspectQueue(cloud.queues.get(logicalId)?.name ?? logicalId);
      if (!inspected) return [];
      return [
        ...inspected.messages.ready.map((m) => m.body),
        ...inspected.messages.inflight.map((m) => m.message.body),
        ...inspected.messages.delayed.map((m) => m.body),
      ];
    },
    stop: async () => {
      await mapping.stop();
      client.destroy();
      await prepared.close();
      await cloud.stop();
    },
  };
}

/** Polls `check` until it returns true or the time is up. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  intervalMs = 200,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}
