import {
  resolveTemplateValue,
  type SamFunctionDefinition,
  type SamTemplate,
} from "./template/sam-template.ts";
import { UsageError } from "../cli/errors.ts";
import {
  createCustomResources,
  loadTemplate,
  pickFunction,
  prepareFunction,
  type EnvVarsFile,
  type PreparedFunction,
} from "./prepare.ts";
import { loadProductionPattern, type ProductionPolicy } from "./production.ts";
import { FunctionWorker } from "./runtime/function-worker.ts";
import { ensureBuilt } from "./build.ts";
import { repositoryRoot } from "../cli/paths.ts";
import { companionEnvironment } from "./runtime/runtime-environment.ts";
import {
  LocalEventSourceMapping,
  type BatchOutcome,
  type MappingSettings,
} from "./cloud/event-source-mapping.ts";
import { LocalSchedule, scheduledFunctions, type ScheduledRun } from "./cloud/schedules.ts";
import {
  LOCAL_REGION,
  localSqsClient,
  startLocalCloud,
  type LocalCloud,
  type LocalQueue,
} from "./cloud/local-cloud.ts";

export interface LocalFlowOptions {
  readonly templatePath: string;
  readonly logicalId?: string | undefined;
  /** SAM env-vars file contents; `functionEnv` is a shorthand for the function's own section. */
  readonly envVars?: EnvVarsFile | undefined;
  readonly envVarsPath?: string | undefined;
  readonly functionEnv?: EnvVarsFile[string];
  readonly parameterOverrides?: Readonly<Record<string, string>>;
  readonly hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Default: a production ENV is refused, with the project's names. */
  readonly production?: ProductionPolicy;
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
  /** Where the function's own output (its logs) goes; dropped by default. */
  readonly logSink?: (chunk: Buffer) => void;
  readonly onBatch?: (outcome: BatchOutcome) => void;
  readonly onError?: (error: unknown) => void;
  readonly note?: (text: string) => void;
  /** Runs every schedule of the template this often instead of its rate (tests; cron expressions). */
  readonly schedulePeriodMs?: number;
  readonly onScheduledRun?: (run: ScheduledRun) => void;
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
  stop(): Promise<void>;
}

/**
 * The SNS -> SQS -> function flow in this process (`up`, tests, soak): the template's queues and topics in
 * fauxqs, the built function in warm workers (MaximumConcurrency of them), and a local event-source
 * mapping with the template's BatchSize, batching window and response types between them.
 */
export async function startLocalFlow(options: LocalFlowOptions): Promise<LocalFlow> {
  const template = loadTemplate(options.templatePath);
  const definition = pickFunction(
    template,
    options.logicalId ?? (template.resources.EntityFunction ? "EntityFunction" : undefined),
  );
  const parameterOverrides = options.parameterOverrides ?? {};
  const started = await startLocalCloud(template, {
    port: options.port ?? 0,
    ...(options.visibilityTimeoutSeconds !== undefined
      ? { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds }
      : {}),
  });
  try {
    // Before the build, the database and the migration: a mapping AWS would refuse fails fast.
    const { queue, settings, deadLetterQueue, maxReceiveCount } = eventSourceMapping(
      template,
      definition,
      started,
      options,
    );
    const cloud: LocalCloud = options.functionsSdkEnvironment
      ? {
          ...started,
          sdkEnvironment: {
            ...started.sdkEnvironment,
            ...(await options.functionsSdkEnvironment(started)),
          },
        }
      : started;
    const prepared = await prepareFunction({
      templatePath: options.templatePath,
      logicalId: definition.logicalId,
      envVars: options.functionEnv
        ? { ...options.envVars, [definition.logicalId]: options.functionEnv }
        : options.envVars,
      envVarsPath: options.envVarsPath,
      parameterOverrides,
      hostEnv: options.hostEnv ?? process.env,
      production: options.production ?? { allowed: false, pattern: loadProductionPattern() },
      dataDir: options.dataDir,
      cloud,
      note: options.note ?? (() => undefined),
    });
    try {
      await createCustomResources(prepared, {
        note: options.note ?? (() => undefined),
        logSink: options.logSink ?? (() => undefined),
      });
    } catch (error) {
      await prepared.close();
      throw error;
    }

    const workers = Array.from(
      { length: settings.maximumConcurrency },
      () =>
        new FunctionWorker({
          env: prepared.env,
          timeoutMs: definition.timeoutSeconds * 1000,
          memorySizeMb: definition.memorySizeMb,
          logSink: options.logSink ?? (() => undefined),
        }),
    );
    const outcomes: BatchOutcome[] = [];
    const client = localSqsClient(cloud.endpoint);
    const mapping = new LocalEventSourceMapping({
      settings,
      client,
      workers,
      onBatch: (outcome) => {
        outcomes.push(outcome);
        options.onBatch?.(outcome);
      },
      onError: options.onError ?? (() => undefined),
    });
    const schedules = await startSchedules(template, prepared, options).catch(async (error: unknown) => {
      await prepared.close();
      throw error;
    });
    mapping.start();
    return {
      cloud,
      prepared,
      queue,
      settings,
      deadLetterQueue,
      maxReceiveCount,
      outcomes,
      schedules,
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
        await Promise.all(schedules.map((schedule) => schedule.stop()));
        await mapping.stop();
        client.destroy();
        await prepared.close();
        await cloud.stop();
      },
    };
  } catch (error) {
    await started.stop();
    throw error;
  }
}

/**
 * The function's SQS event source as Lambda would map it: its queue, the template's BatchSize, batching
 * window, MaximumConcurrency and response types (or the options' replacements), and the queue's redrive
 * policy. Refuses, as AWS does, a queue whose visibility timeout is below the function's Timeout.
 */
function eventSourceMapping(
  template: SamTemplate,
  definition: SamFunctionDefinition,
  cloud: LocalCloud,
  options: LocalFlowOptions,
): {
  queue: LocalQueue;
  settings: MappingSettings;
  deadLetterQueue: LocalQueue | undefined;
  maxReceiveCount: number;
} {
  const resolve = (raw: unknown): string | undefined =>
    resolveTemplateValue(raw, options.parameterOverrides ?? {}, template, cloud.resolveResource);
  const events = Object.values(
    (definition.properties.Events ?? {}) as Record<
      string,
      { Type?: string; Properties?: Record<string, unknown> }
    >,
  );
  const source = events.find((event) => event.Type === "SQS")?.Properties;
  if (!source) throw new UsageError(`${definition.logicalId} has no SQS event source in the template`);
  const queue = [...cloud.queues.values()].find((candidate) => candidate.arn === resolve(source.Queue));
  if (!queue)
    throw new UsageError(
      `cannot find the SQS event source's queue (${JSON.stringify(source.Queue)}) among the template's queues`,
    );
  refuseShortVisibilityTimeout(cloud, queue, definition, options.visibilityTimeoutSeconds !== undefined);
  const scaling = (source.ScalingConfig ?? {}) as { MaximumConcurrency?: unknown };
  const settings: MappingSettings = {
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: LOCAL_REGION,
    batchSize: options.batchSize ?? Number(resolve(source.BatchSize) ?? 10),
    batchingWindowSeconds: Number(resolve(source.MaximumBatchingWindowInSeconds) ?? 0),
    maximumConcurrency: Math.max(1, options.concurrency ?? Number(resolve(scaling.MaximumConcurrency) ?? 2)),
    reportBatchItemFailures:
      Array.isArray(source.FunctionResponseTypes) &&
      source.FunctionResponseTypes.includes("ReportBatchItemFailures"),
  };
  const redrive = template.resources[queue.logicalId]?.Properties?.RedrivePolicy as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  const deadLetterQueue = [...cloud.queues.values()].find(
    (candidate) => redrive !== undefined && candidate.arn === resolve(redrive.deadLetterTargetArn),
  );
  return {
    queue,
    settings,
    deadLetterQueue,
    maxReceiveCount: Number(resolve(redrive?.maxReceiveCount) ?? 0),
  };
}

/**
 * AWS refuses an SQS event source whose queue's visibility timeout is below the function's Timeout: a
 * record would become visible again while its invocation still runs, be received again, and could reach
 * maxReceiveCount (the DLQ) while it is being processed successfully.
 */
function refuseShortVisibilityTimeout(
  cloud: LocalCloud,
  queue: LocalQueue,
  definition: SamFunctionDefinition,
  overridden: boolean,
): void {
  const visibilityTimeout = Number(cloud.server.inspectQueue(queue.name)?.attributes.VisibilityTimeout ?? 30);
  const timeout = definition.timeoutSeconds;
  if (visibilityTimeout >= timeout) return;
  const from = overridden
    ? "the override (up --visibility-timeout)"
    : `${queue.logicalId}'s VisibilityTimeout in the template`;
  throw new UsageError(
    `the visibility timeout of ${queue.logicalId} (${visibilityTimeout} s, from ${from}) is below ${definition.logicalId}'s Timeout (${timeout} s): AWS refuses such an SQS event source, as a record would come back while its invocation still runs. Give at least ${timeout} s (AWS advises ${6 * timeout} s, 6x the Timeout), or use a template whose Timeout is shorter`,
  );
}

/**
 * The template's schedules (the outbox relay every minute), each in its own warm execution environment
 * with the same database and local cloud as the flow's function.
 */
async function startSchedules(
  template: SamTemplate,
  prepared: PreparedFunction,
  options: LocalFlowOptions,
): Promise<LocalSchedule[]> {
  const note = options.note ?? (() => undefined);
  const schedules: LocalSchedule[] = [];
  const resolve = (raw: unknown): string | undefined =>
    resolveTemplateValue(raw, options.parameterOverrides ?? {}, template, prepared.cloud?.resolveResource);
  for (const schedule of scheduledFunctions(template, resolve)) {
    const periodMs = options.schedulePeriodMs ?? schedule.periodMs;
    const { logicalId } = schedule.definition;
    if (periodMs === undefined) {
      note(`schedule ${logicalId} ${schedule.expression}: not run locally (only rate() expressions are)`);
      continue;
    }
    const { artifactsDir } = await ensureBuilt(template, logicalId, repositoryRoot(), note);
    const env = companionEnvironment(schedule.definition, artifactsDir, {
      template,
      hostEnv: options.hostEnv ?? process.env,
      parameterOverrides: options.parameterOverrides ?? {},
      functionEnv: prepared.env,
      cloud: prepared.cloud,
      envVars: options.envVars,
      envVarsPath: options.envVarsPath,
      note,
    });
    const local = new LocalSchedule({
      schedule,
      env,
      periodMs,
      logSink: options.logSink ?? (() => undefined),
      onRun: options.onScheduledRun ?? (() => undefined),
    });
    local.start();
    note(`schedule ${logicalId} (${schedule.expression}) runs every ${Math.round(periodMs / 1000)} s`);
    schedules.push(local);
  }
  return schedules;
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
