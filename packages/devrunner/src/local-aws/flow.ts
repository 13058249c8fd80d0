import { queuedBodies } from "@entity/adapters/sqs-emulator";
import { rmSync } from "node:fs";
import type { LocalAwsConfig } from "./config.ts";
import {
  LocalEventSourceMapping,
  type BatchOutcome,
  type BatchStart,
  type MappingSettings,
} from "./cloud/event-source-mapping.ts";
import { localSqsClient, startLocalCloud, type LocalCloud, type LocalQueue } from "./cloud/local-cloud.ts";
import { eventSourceOf } from "./cloud/mapping-settings.ts";
import type { UpState } from "./cloud/state.ts";
import { startSchedules, type LocalSchedule, type ScheduledRun } from "./cloud/schedules.ts";
import {
  createCustomResources,
  prepareFunction,
  type EnvVarsFile,
  type PreparedFunction,
} from "./prepare.ts";
import type { ProductionPolicy } from "./production.ts";
import { startHotReload, type HotReload, type ReloadEvent } from "./hot-reload.ts";
import { FunctionPool } from "./runtime/function-pool.ts";
import type { LogSink } from "./runtime/function-worker.ts";
import {
  assertInspectorPortsFree,
  type InspectorEvent,
  type InspectorSettings,
} from "./runtime/inspector.ts";
import { workerSettings } from "./runtime/runtime-environment.ts";
import { loadTemplate, pickFunction } from "./template/functions.ts";

export interface LocalFlowOptions {
  readonly config: LocalAwsConfig;
  readonly templatePath: string;
  readonly templateLabel?: string;
  readonly logicalId?: string | undefined;
  /** SAM env-vars file contents; `functionEnv` is a shorthand for the function's own section. */
  readonly envVars?: EnvVarsFile | undefined;
  readonly envVarsPath?: string | undefined;
  readonly functionEnv?: EnvVarsFile[string];
  readonly parameterOverrides?: Readonly<Record<string, string>>;
  /** Whether a production ENV may run (--allow-prod) and what counts as one. */
  readonly production: ProductionPolicy;
  readonly dataDir: string;
  readonly port?: number;
  /** Replaces every queue's VisibilityTimeout; below the function's Timeout it is refused, as AWS does. */
  readonly visibilityTimeoutSeconds?: number | undefined;
  /**
   * Settings the functions' AWS SDK clients get instead of the local cloud's, given the started cloud
   * (soak: AWS_ENDPOINT_URL_SQS to a fault proxy in front of the emulator, a fake Secrets Manager).
   */
  readonly functionsSdkEnvironment?: (cloud: LocalCloud) => Promise<Record<string, string>>;
  /** Replace the template's BatchSize / MaximumConcurrency (tests, soak). */
  readonly batchSize?: number;
  readonly concurrency?: number;
  /** Where the functions' own output (their logs) goes, with the invocation that wrote it; dropped by default. */
  readonly logSink?: LogSink;
  /** A batch handed to the function (its outcome follows in `onBatch`). */
  readonly onInvoke?: (start: BatchStart) => void;
  readonly onBatch?: (outcome: BatchOutcome) => void;
  readonly onError?: (error: unknown) => void;
  readonly note?: (text: string) => void;
  /** Runs every schedule of the template this often instead of its rate (tests; cron expressions). */
  readonly schedulePeriodMs?: number;
  readonly onScheduledRun?: (run: ScheduledRun) => void;
  /**
   * `up --inspect`: the Node inspector in every execution environment, started at once so a debugger can
   * attach before the first message: on `port`, `port + 1`, ... (one per environment). The schedules run
   * without it. The Timeout is not enforced while debugging.
   */
  readonly inspector?: {
    readonly port: number;
    readonly onListening: (event: InspectorEvent, logicalId: string) => void;
  };
  /** Keep the queues' messages in this folder between runs (`up`); `fresh` empties it first. */
  readonly keepMessagesIn?: string | undefined;
  readonly fresh?: boolean;
  /** Rebuild the function when its sources change and replace its environments (`up`). */
  readonly hotReload?: boolean;
  readonly onReload?: (event: ReloadEvent) => void;
  /** How long `stop` lets in-flight invocations finish before it kills their environments (default 1 s). */
  readonly stopGraceMs?: number;
}

/** What `stop` cut short: invocations still running after the grace, whose environments it killed. */
export interface FlowStopReport {
  readonly interruptedInvocations: number;
  readonly interruptedRecords: number;
}

export interface LocalFlow {
  readonly cloud: LocalCloud;
  readonly prepared: PreparedFunction;
  /** The queue the function's SQS event source reads. */
  readonly queue: LocalQueue;
  readonly settings: MappingSettings;
  /** Its redrive target and maxReceiveCount, when it has one. */
  readonly deadLetterQueue: LocalQueue | undefined;
  readonly maxReceiveCount: number;
  readonly outcomes: readonly BatchOutcome[];
  /** The template's schedules running locally (the outbox relay). */
  readonly schedules: readonly LocalSchedule[];
  /** Bodies of the messages now in a queue of the template (by logical id), without consuming them. */
  bodies(logicalId: string): string[];
  /** What `publish` and `dlq` in another process need to find this flow. */
  upState(pid: number): UpState;
  /** Stops in about `stopGraceMs` (plus closing the servers), however long a running invocation would take. */
  stop(): Promise<FlowStopReport>;
}

/**
 * The SNS -> SQS -> function flow in this process (`up`, tests, soak), in named steps: the template's
 * queues and topics in fauxqs; the function's SQS event source (refused, as AWS would, when its queue's
 * visibility timeout is below the Timeout); the function prepared and its custom resources (the schema
 * migration) created; its warm execution environments (MaximumConcurrency of them); its schedules; and
 * a local event-source mapping with the template's BatchSize, batching window and response types.
 */
export async function startLocalFlow(options: LocalFlowOptions): Promise<LocalFlow> {
  const template = loadTemplate(options.templatePath, options.templateLabel);
  const definition = pickFunction(template, options.logicalId);
  const parameterOverrides = options.parameterOverrides ?? {};
  const note = options.note ?? (() => undefined);
  const logSink = options.logSink ?? (() => undefined);
  if (options.keepMessagesIn && options.fresh)
    rmSync(options.keepMessagesIn, { recursive: true, force: true });
  const started = await startLocalCloud(template, {
    port: options.port ?? 0,
    region: options.config.region,
    ...(options.visibilityTimeoutSeconds !== undefined
      ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
      : {}),
    ...(options.keepMessagesIn ? { dataDir: options.keepMessagesIn } : {}),
  });
  if (started.kept.messages > 0)
    note(
      `local cloud: ${started.kept.messages} message(s) kept from the last run (${started.kept.wereInFlight} were in flight: delivered again now); --fresh starts empty`,
    );
  try {
    // Before the build, the database and the migration: a mapping AWS would refuse fails fast.
    const source = eventSourceOf(template, definition, started, {
      parameterOverrides,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      visibilityTimeoutOverridden: options.visibilityTimeoutSeconds !== undefined,
    });
    const cloud = await withFunctionsSdkEnvironment(started, options);
    const prepared = await prepareFunction({
      config: options.config,
      templatePath: options.templatePath,
      ...(options.templateLabel ? { templateLabel: options.templateLabel } : {}),
      logicalId: definition.logicalId,
      envVars: options.functionEnv
        ? { ...options.envVars, [definition.logicalId]: options.functionEnv }
        : options.envVars,
      envVarsPath: options.envVarsPath,
      parameterOverrides,
      production: options.production,
      dataDir: options.dataDir,
      cloud,
      note,
    });
    return await runFlow(options, { template, definition, cloud, prepared, source, note, logSink });
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/** The prepared function's custom resources, environments, schedules and mapping, started. */
async function runFlow(
  options: LocalFlowOptions,
  parts: {
    template: ReturnType<typeof loadTemplate>;
    definition: ReturnType<typeof pickFunction>;
    cloud: LocalCloud;
    prepared: PreparedFunction;
    source: ReturnType<typeof eventSourceOf>;
    note: (text: string) => void;
    logSink: LogSink;
  },
): Promise<LocalFlow> {
  const { template, definition, cloud, prepared, source, note, logSink } = parts;
  const poolSize = source.settings.maximumConcurrency;
  let schedules: LocalSchedule[] = [];
  try {
    if (options.inspector)
      await assertInspectorPortsFree(Array.from({ length: poolSize }, (_, n) => options.inspector!.port + n));
    await createCustomResources(prepared, { note, logSink });
    schedules = await startSchedules(template, prepared, {
      config: options.config,
      parameterOverrides: options.parameterOverrides ?? {},
      envVars: options.envVars,
      envVarsPath: options.envVarsPath,
      periodMs: options.schedulePeriodMs,
      logSink,
      onRun: options.onScheduledRun ?? (() => undefined),
      note,
    });
  } catch (error) {
    await Promise.all(schedules.map((schedule) => schedule.stop(0)));
    await prepared.close();
    throw error;
  }
  const pool = new FunctionPool({
    size: poolSize,
    settings: workerSettings(definition, prepared.env),
    hostEnv: options.config.hostEnv,
    logSink,
    inspector: inspectorOf(options.inspector, definition.logicalId),
  });
  if (options.inspector) for (const worker of pool.workers) worker.initialize();
  const hotReload: HotReload | undefined = options.hotReload
    ? startHotReload({
        config: options.config,
        template,
        definition,
        env: prepared.env,
        pool,
        onReload: options.onReload ?? (() => undefined),
      })
    : undefined;
  const outcomes: BatchOutcome[] = [];
  const client = localSqsClient(cloud.endpoint, cloud.region);
  const mapping = new LocalEventSourceMapping({
    settings: source.settings,
    client,
    pool,
    onBatch: (outcome) => {
      outcomes.push(outcome);
      options.onBatch?.(outcome);
    },
    onError: options.onError ?? (() => undefined),
    onInvoke: options.onInvoke,
  });
  mapping.start();
  return {
    cloud,
    prepared,
    ...source,
    outcomes,
    schedules,
    bodies: (logicalId) => queuedBodies(cloud.server, cloud.queues.get(logicalId)?.name ?? logicalId),
    upState: (pid) => ({
      pid,
      endpoint: cloud.endpoint,
      region: cloud.region,
      topicArn: [...cloud.topics.values()][0]?.arn ?? "",
      queueUrl: source.queue.url,
      dlqUrl: source.deadLetterQueue?.url,
      outboundQueueUrl: prepared.env.OUTBOUND_QUEUE_URL,
    }),
    stop: async () => {
      const graceMs = options.stopGraceMs ?? 1000;
      await hotReload?.close();
      const [interrupted] = await Promise.all([
        mapping.stop(graceMs),
        ...schedules.map((schedule) => schedule.stop(graceMs)),
      ]);
      pool.stop();
      client.destroy();
      // Nothing uses either any more: the database and the emulator close together.
      await Promise.all([prepared.close(), cloud.stop()]);
      return interrupted;
    },
  };
}

/** `up --inspect`: the environments listen at once and never wait (messages keep flowing). */
function inspectorOf(
  inspector: LocalFlowOptions["inspector"],
  logicalId: string,
): InspectorSettings | undefined {
  return (
    inspector && {
      port: inspector.port,
      waitForDebugger: false,
      onListening: (event) => inspector.onListening(event, logicalId),
    }
  );
}

async function withFunctionsSdkEnvironment(
  started: LocalCloud,
  options: LocalFlowOptions,
): Promise<LocalCloud> {
  if (!options.functionsSdkEnvironment) return started;
  return {
    ...started,
    sdkEnvironment: { ...started.sdkEnvironment, ...(await options.functionsSdkEnvironment(started)) },
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
