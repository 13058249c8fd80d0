import { availableParallelism, loadavg } from "node:os";
import { startPortForward } from "@entity/adapters/fault-injection";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters/postgres";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import { checkSoak, type SoakCounts } from "./checks.ts";
import { startCpuHog, type CpuHog } from "./cpu-hog.ts";
import { isUnpublishable, nameOf, seededRandom, soakKeys } from "./keys.ts";
import { startSecretRotation, type RotationFigures } from "./rotation.ts";
import { startSoakFlow, type FlowStats } from "./soak-flow.ts";

export interface SoakOptions {
  readonly config: LocalAwsConfig;
  readonly messages: number;
  /** Share of database round trips cut short (a transient fault), e.g. 0.05. */
  readonly faultRate: number;
  readonly database: { host: string; port: number; user: string; password: string; database: string };
  readonly templatePath: string;
  readonly dataDir: string;
  readonly concurrency?: number;
  readonly batchSize?: number;
  /** EntityFunction's Timeout in the soak's template copy (default 5 s). */
  readonly functionTimeoutSeconds?: number;
  /** The queue's visibility timeout (default 6x the Timeout, as AWS advises; never below the Timeout). */
  readonly visibilityTimeoutSeconds?: number;
  /** How often the function's database password is rotated (default 10 s). */
  readonly rotateEverySeconds?: number;
  /** Share of entity names whose events the outbound queue refuses for good (default 0.5 %). */
  readonly unpublishableShare?: number;
  /** Share of events whose first delivery fails transiently (default 1 %). */
  readonly flakyShare?: number;
  /** Runs the template's schedules (the outbox relay) this often instead of their rate. */
  readonly schedulePeriodSeconds?: number;
  /** Busy loops on every core for the whole run. */
  readonly cpuHog?: boolean;
  readonly timeoutSeconds?: number;
  readonly progress: (text: string) => void;
}

export interface SoakReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly published: number;
  readonly distinctKeys: number;
  readonly poisonKeys: number;
  readonly names: number;
  readonly unpublishableNames: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly machine: {
    cores: number;
    cpuHogProcesses: number;
    loadAverageAtStart: number;
    loadAverageMax: number;
  };
  readonly flow: {
    functionTimeoutSeconds: number;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    batches: number;
    failedRecords: number;
    timedOutInvocations: number;
    /** Invocation durations: the median, the 99th percentile and the slowest. */
    invocationMsP50: number;
    invocationMsP99: number;
    slowestInvocationMs: number;
    /** Execution environments started (the first ones, and replacements after a timeout), the slowest init. */
    coldStarts: number;
    slowestInitMs: number;
    relayRuns: number;
    mappingErrors: number;
  };
  readonly faults: RotationFigures & {
    databaseCuts: number;
    publishRefusals: number;
    transientPublishFailures: number;
  };
  readonly counts: SoakCounts;
}

/**
 * Publishes keys through the local SNS -> SQS -> EntityFunction flow while faults are injected (cut
 * database connections, password rotations, events the outbound queue refuses for good or for now),
 * waits until everything has settled, and checks nothing was lost, doubled or left stuck.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const load = { atStart: loadavg()[0]!, max: loadavg()[0]! };
  const hog: CpuHog | undefined = options.cpuHog ? startCpuHog() : undefined;
  const timeout = options.functionTimeoutSeconds ?? 5;
  const visibilityTimeout = options.visibilityTimeoutSeconds ?? 6 * timeout;
  const db = new Kysely<EntityDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ ...options.database, max: 2 }) }),
  });
  const cleanups: (() => Promise<unknown>)[] = [() => db.destroy()];
  try {
    await migrateToLatest(db);
    // Its own generator, so the keys below do not depend on how many round trips happened before.
    const dbProxy = await startPortForward(options.database.host, options.database.port, {
      cutRate: options.faultRate / 5,
      random: seededRandom(7),
    });
    cleanups.push(() => dbProxy.close());
    const rotation = await startSecretRotation(db, {
      everyMs: (options.rotateEverySeconds ?? 10) * 1000,
      onError: (error) => options.progress(`rotation failed: ${(error as Error).message}`),
    });
    cleanups.push(() => rotation.stop());
    const soak = await startSoakFlow({
      config: options.config,
      templatePath: options.templatePath,
      functionTimeoutSeconds: timeout,
      dataDir: options.dataDir,
      database: options.database,
      databaseProxyPort: dbProxy.port,
      secret: { arn: rotation.secretArn, endpoint: rotation.endpoint },
      visibilityTimeoutSeconds: visibilityTimeout,
      concurrency: options.concurrency ?? 4,
      batchSize: options.batchSize ?? 10,
      flakyShare: options.flakyShare ?? 0.01,
      schedulePeriodSeconds: options.schedulePeriodSeconds,
      note: options.progress,
    });
    cleanups.push(() => soak.stop());
    const { flow, stats } = soak;

    const keys = soakKeys(options.messages, seededRandom(42), options.unpublishableShare ?? 0.005);
    const topic = flow.cloud.topics.get("EntityTopic")!;
    for (const key of keys.published) flow.cloud.server.publish(topic.name, key);
    options.progress(
      `published ${keys.published.length} keys (${keys.valid.size} distinct valid, ${keys.poison.size} poison) through SNS; Timeout ${timeout} s, visibility timeout ${visibilityTimeout} s`,
    );
    const settled = await waitUntilSettled(db, flow, keys, {
      deadline: Date.now() + (options.timeoutSeconds ?? Math.max(120, options.messages / 20)) * 1000,
      tick: async () => {
        load.max = Math.max(load.max, loadavg()[0]!);
        options.progress(
          `${await progressLine(db, flow)}; ${stats.batches} batches, ${stats.failedRecords} records retried, ${dbProxy.cuts()} connections cut, ${rotation.figures().rotations} rotations`,
        );
      },
    });
    // Stop first: nothing may change while the end state is checked.
    await soak.stop();
    const { problems, counts } = await checkSoak(db, flow, { ...keys, isFlaky: soak.isFlaky });
    if (!settled) problems.push("did not settle before the deadline");
    const seconds = (Date.now() - started) / 1000;
    const names = new Set([...keys.valid].map(nameOf));
    const publishFaults = soak.publishFaults();
    return {
      ok: problems.length === 0,
      problems,
      published: keys.published.length,
      distinctKeys: keys.valid.size,
      poisonKeys: keys.poison.size,
      names: names.size,
      unpublishableNames: [...names].filter(isUnpublishable).length,
      seconds,
      messagesPerSecond: keys.published.length / seconds,
      machine: {
        cores: availableParallelism(),
        cpuHogProcesses: hog?.processes ?? 0,
        loadAverageAtStart: load.atStart,
        loadAverageMax: load.max,
      },
      flow: flowFigures(stats, timeout, visibilityTimeout, flow.maxReceiveCount),
      faults: {
        databaseCuts: dbProxy.cuts(),
        ...rotation.figures(),
        publishRefusals: publishFaults.permanentFailures,
        transientPublishFailures: publishFaults.transientFailures,
      },
      counts,
    };
  } finally {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
    await hog?.stop();
  }
}

function flowFigures(
  stats: FlowStats,
  timeout: number,
  visibilityTimeout: number,
  maxReceiveCount: number,
): SoakReport["flow"] {
  return {
    functionTimeoutSeconds: timeout,
    visibilityTimeoutSeconds: visibilityTimeout,
    maxReceiveCount,
    batches: stats.batches,
    failedRecords: stats.failedRecords,
    timedOutInvocations: stats.timedOut,
    invocationMsP50: percentile(stats.durations, 0.5),
    invocationMsP99: percentile(stats.durations, 0.99),
    slowestInvocationMs: percentile(stats.durations, 1),
    coldStarts: stats.coldStarts,
    slowestInitMs: Math.round(stats.slowestInitMs),
    relayRuns: stats.relayRuns,
    mappingErrors: stats.mappingErrors,
  };
}

/** Polls every second until `isSettled` or the deadline; false when the deadline came first. */
async function waitUntilSettled(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  keys: { valid: ReadonlySet<string>; poison: ReadonlySet<string> },
  options: { deadline: number; tick: () => Promise<void> },
): Promise<boolean> {
  for (;;) {
    if (await isSettled(db, flow, keys)) return true;
    if (Date.now() >= options.deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await options.tick();
  }
}

/** Every valid key stored, every poison key dead-lettered, the queue empty and no event pending. */
async function isSettled(
  db: Kysely<EntityDatabase>,
  flow: LocalFlow,
  keys: { valid: ReadonlySet<string>; poison: ReadonlySet<string> },
): Promise<boolean> {
  const row = await sql<{ observations: number; pending: number }>`
    select (select count(*)::int from observation) as observations,
           (select count(*)::int from outbox where published_at is null and parked_at is null) as pending`.execute(
    db,
  );
  const { observations, pending } = row.rows[0]!;
  const deadKeys = new Set(
    flow.bodies("EntityDeadLetterQueue").map((body) => (JSON.parse(body) as { Message: string }).Message),
  );
  return (
    observations >= keys.valid.size &&
    deadKeys.size >= keys.poison.size &&
    pending === 0 &&
    flow.bodies("EntityQueue").length === 0
  );
}

async function progressLine(db: Kysely<EntityDatabase>, flow: LocalFlow): Promise<string> {
  const row = await sql<{ observations: number; pending: number; parked: number }>`
    select (select count(*)::int from observation) as observations,
           (select count(*)::int from outbox where published_at is null and parked_at is null) as pending,
           (select count(*)::int from outbox where parked_at is not null) as parked`.execute(db);
  const { observations, pending, parked } = row.rows[0]!;
  return `${observations} keys stored, ${flow.bodies("EntityDeadLetterQueue").length} dead-lettered, ${flow.bodies("EntityQueue").length} queued, events ${pending} pending / ${parked} parked`;
}

function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!);
}
