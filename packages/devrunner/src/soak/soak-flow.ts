import {
  startSqsFaultProxy,
  type SqsFaultProxy,
  type SqsFaultProxyCounts,
} from "@entity/adapters/fault-injection";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BatchOutcome } from "../local-aws/cloud/event-source-mapping.ts";
import { startLocalFlow, type LocalFlow, type LocalFlowOptions } from "../local-aws/flow.ts";
import { loadProductionPattern, type LocalAwsConfig } from "../local-aws/index.ts";
import type { SoakDatabase } from "./database.ts";
import { outboundFaults } from "./publish-faults.ts";
import { writeTemplateWithTimeout } from "./template-timeout.ts";

/** What the soak counts about the flow while it runs. */
export interface FlowStats {
  batches: number;
  failedRecords: number;
  timedOut: number;
  durations: number[];
  coldStarts: number;
  slowestInitMs: number;
  relayRuns: number;
  mappingErrors: number;
}

export interface SoakFlow {
  readonly flow: LocalFlow;
  readonly stats: FlowStats;
  readonly isFlaky: (eventId: string) => boolean;
  publishFaults(): SqsFaultProxyCounts;
  /** Stops the flow (once) and the SQS fault proxy. */
  stop(): Promise<void>;
}

export interface SoakFlowOptions {
  readonly config: LocalAwsConfig;
  readonly templatePath: string;
  readonly functionTimeoutSeconds: number;
  readonly dataDir: string;
  readonly database: SoakDatabase;
  readonly databaseProxyPort: number;
  readonly secret: { readonly arn: string; readonly endpoint: string };
  readonly visibilityTimeoutSeconds: number;
  readonly concurrency: number;
  readonly batchSize: number;
  readonly flakyShare: number;
  readonly schedulePeriodSeconds: number | undefined;
  readonly note: (text: string) => void;
}

/**
 * The local flow as the soak runs it: a template copy with the soak's Timeout for EntityFunction, the
 * function's database settings (`databaseSettings`), and its SQS calls (the relay's too) through the fault
 * proxy that refuses or fails chosen events.
 */
export async function startSoakFlow(options: SoakFlowOptions): Promise<SoakFlow> {
  const stats = noStats();
  let sqsProxy: SqsFaultProxy | undefined;
  let isFlaky: (eventId: string) => boolean = () => false;
  const scratch = mkdtempSync(join(tmpdir(), "soak-template-"));
  const templatePath = join(scratch, "template.yaml");
  writeTemplateWithTimeout(
    options.templatePath,
    templatePath,
    "EntityFunction",
    options.functionTimeoutSeconds,
  );
  const flow = await startLocalFlow({
    config: options.config,
    // The soak's template copy is a dev stack: nothing here is production.
    production: { allowed: false, pattern: loadProductionPattern(options.config.repositoryRoot) },
    templatePath,
    ...databaseSettings(options),
    functionsSdkEnvironment: async (cloud) => {
      const faults = outboundFaults(cloud.queues.get("OutboundEventsQueue")!.name, options.flakyShare);
      isFlaky = faults.isFlaky;
      sqsProxy = await startSqsFaultProxy({ target: cloud.endpoint, faultFor: faults.faultFor });
      return {
        AWS_ENDPOINT_URL_SQS: sqsProxy.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: options.secret.endpoint,
      };
    },
    dataDir: options.dataDir,
    concurrency: options.concurrency,
    batchSize: options.batchSize,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    ...(options.schedulePeriodSeconds ? { schedulePeriodMs: options.schedulePeriodSeconds * 1000 } : {}),
    onBatch: (outcome) => count(stats, outcome),
    onScheduledRun: () => void (stats.relayRuns += 1),
    onError: () => void (stats.mappingErrors += 1),
    note: options.note,
  }).catch(async (error: unknown) => {
    await sqsProxy?.close();
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  });
  let stopping: Promise<void> | undefined;
  return {
    flow,
    stats,
    isFlaky,
    publishFaults: () => sqsProxy!.counts(),
    stop: () =>
      (stopping ??= flow
        .stop()
        .then(() => undefined)
        .finally(async () => {
          await sqsProxy?.close();
          rmSync(scratch, { recursive: true, force: true });
        })),
  };
}

/**
 * The function reaches Postgres through the connection-cutting proxy, with its password from the rotating
 * secret; the schema migration goes straight to the database as its owner: the faults are for the function.
 */
function databaseSettings(
  options: Pick<SoakFlowOptions, "database" | "databaseProxyPort" | "secret">,
): Pick<LocalFlowOptions, "functionEnv" | "envVars"> {
  const { database } = options;
  return {
    functionEnv: {
      LOG_LEVEL: "ERROR",
      DB_HOST: "127.0.0.1",
      DB_PORT: options.databaseProxyPort,
      DB_NAME: database.database,
      DB_USER: "",
      DB_PASSWORD: "",
      DB_SSL: "disable",
      DB_SECRET_ARN: options.secret.arn,
      DB_CONNECT_TIMEOUT_MS: 2000,
    },
    envVars: {
      MigrationFunction: {
        DB_HOST: database.host,
        DB_PORT: database.port,
        DB_USER: database.user,
        DB_PASSWORD: database.password,
        DB_SECRET_ARN: "",
      },
    },
  };
}

function noStats(): FlowStats {
  return {
    batches: 0,
    failedRecords: 0,
    timedOut: 0,
    durations: [],
    coldStarts: 0,
    slowestInitMs: 0,
    relayRuns: 0,
    mappingErrors: 0,
  };
}

function count(stats: FlowStats, outcome: BatchOutcome): void {
  stats.batches += 1;
  stats.failedRecords += outcome.failed.size;
  if (outcome.report.result.status === "timeout") stats.timedOut += 1;
  stats.durations.push(outcome.report.durationMs);
  if (outcome.report.initDurationMs !== undefined) {
    stats.coldStarts += 1;
    stats.slowestInitMs = Math.max(stats.slowestInitMs, outcome.report.initDurationMs);
  }
}
