import { availableParallelism, loadavg } from "node:os";
import { startPortForward, type PortForward } from "@entity/adapters/fault-injection";
import { migrateToLatest, type EntityDatabase } from "@entity/adapters/postgres";
import type { Kysely } from "kysely";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import { checkSoak, type SoakCounts } from "./checks.ts";
import { startCpuHog, type CpuHog } from "./cpu-hog.ts";
import { openOwnerDatabase, type SoakDatabase } from "./database.ts";
import { isUnpublishable, nameOf, seededRandom, soakKeys, type SoakKeys } from "./keys.ts";
import { faultFigures, flowFigures, type SoakReport } from "./report.ts";
import { startSecretRotation, type SecretRotation } from "./rotation.ts";
import { progressLine, waitUntilSettled } from "./settle.ts";
import { startSoakFlow, type SoakFlow } from "./soak-flow.ts";

export type { SoakReport } from "./report.ts";

export interface SoakOptions {
  readonly config: LocalAwsConfig;
  readonly messages: number;
  /** Share of database round trips cut short (a transient fault), e.g. 0.05. */
  readonly faultRate: number;
  readonly database: SoakDatabase;
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

type Cleanup = () => Promise<unknown>;

/** EntityFunction's Timeout and its queue's visibility timeout in this run. */
interface FlowTiming {
  readonly functionTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
}

/** The database-side faults: the connection-cutting proxy the function goes through, the rotating secret. */
interface DatabaseFaults {
  readonly proxy: PortForward;
  readonly rotation: SecretRotation;
}

/** The machine the soak runs on: its load (sampled while waiting), and the CPU hog when asked for. */
interface Machine {
  readonly hog: CpuHog | undefined;
  readonly load: { readonly atStart: number; max: number };
}

/**
 * Publishes keys through the local SNS -> SQS -> EntityFunction flow while faults are injected (cut
 * database connections, password rotations, events the outbound queue refuses for good or for now),
 * waits until everything has settled, and checks nothing was lost, doubled or left stuck.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const machine = watchMachine(options.cpuHog);
  const timing = flowTiming(options);
  const db = openOwnerDatabase(options.database);
  const cleanups: Cleanup[] = [() => db.destroy()];
  try {
    await migrateToLatest(db);
    const faults = await startDatabaseFaults(db, options, cleanups);
    const soak = await startFlow(options, timing, faults);
    cleanups.push(() => soak.stop());
    const keys = publishKeys(soak.flow, options, timing);
    const settled = await waitUntilSettled(db, soak.flow, keys, {
      deadline: Date.now() + (options.timeoutSeconds ?? Math.max(120, options.messages / 20)) * 1000,
      tick: () => reportProgress(db, soak, faults, machine, options.progress),
    });
    // Stop first: nothing may change while the end state is checked.
    await soak.stop();
    const { problems, counts } = await checkSoak(db, soak.flow, { ...keys, isFlaky: soak.isFlaky });
    if (!settled) problems.push("did not settle before the deadline");
    return soakReport({ started, keys, problems, counts, machine, timing, soak, faults });
  } finally {
    while (cleanups.length > 0) await cleanups.pop()!().catch(() => undefined);
    await machine.hog?.stop();
  }
}

function watchMachine(cpuHog: boolean | undefined): Machine {
  const now = loadavg()[0]!;
  return { hog: cpuHog ? startCpuHog() : undefined, load: { atStart: now, max: now } };
}

function flowTiming(options: SoakOptions): FlowTiming {
  const functionTimeoutSeconds = options.functionTimeoutSeconds ?? 5;
  return {
    functionTimeoutSeconds,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 6 * functionTimeoutSeconds,
  };
}

async function startDatabaseFaults(
  db: Kysely<EntityDatabase>,
  options: SoakOptions,
  cleanups: Cleanup[],
): Promise<DatabaseFaults> {
  // Its own generator, so the keys do not depend on how many round trips happened before.
  const proxy = await startPortForward(options.database.host, options.database.port, {
    cutRate: options.faultRate / 5,
    random: seededRandom(7),
  });
  cleanups.push(() => proxy.close());
  const rotation = await startSecretRotation(db, {
    everyMs: (options.rotateEverySeconds ?? 10) * 1000,
    onError: (error) => options.progress(`rotation failed: ${(error as Error).message}`),
  });
  cleanups.push(() => rotation.stop());
  return { proxy, rotation };
}

function startFlow(options: SoakOptions, timing: FlowTiming, faults: DatabaseFaults): Promise<SoakFlow> {
  return startSoakFlow({
    config: options.config,
    templatePath: options.templatePath,
    functionTimeoutSeconds: timing.functionTimeoutSeconds,
    dataDir: options.dataDir,
    database: options.database,
    databaseProxyPort: faults.proxy.port,
    secret: { arn: faults.rotation.secretArn, endpoint: faults.rotation.endpoint },
    visibilityTimeoutSeconds: timing.visibilityTimeoutSeconds,
    concurrency: options.concurrency ?? 4,
    batchSize: options.batchSize ?? 10,
    flakyShare: options.flakyShare ?? 0.01,
    schedulePeriodSeconds: options.schedulePeriodSeconds,
    note: options.progress,
  });
}

/** The soak's keys (a fixed seed, so a run can be repeated), each published to the template's topic. */
function publishKeys(flow: LocalFlow, options: SoakOptions, timing: FlowTiming): SoakKeys {
  const keys = soakKeys(options.messages, seededRandom(42), options.unpublishableShare ?? 0.005);
  const topic = flow.cloud.topics.get("EntityTopic")!;
  for (const key of keys.published) flow.cloud.server.publish(topic.name, key);
  options.progress(
    `published ${keys.published.length} keys (${keys.valid.size} distinct valid, ${keys.poison.size} poison) through SNS; Timeout ${timing.functionTimeoutSeconds} s, visibility timeout ${timing.visibilityTimeoutSeconds} s`,
  );
  return keys;
}

async function reportProgress(
  db: Kysely<EntityDatabase>,
  soak: SoakFlow,
  faults: DatabaseFaults,
  machine: Machine,
  progress: (text: string) => void,
): Promise<void> {
  machine.load.max = Math.max(machine.load.max, loadavg()[0]!);
  progress(
    `${await progressLine(db, soak.flow)}; ${soak.stats.batches} batches, ${soak.stats.failedRecords} records retried, ${faults.proxy.cuts()} connections cut, ${faults.rotation.figures().rotations} rotations`,
  );
}

function soakReport(run: {
  started: number;
  keys: SoakKeys;
  problems: string[];
  counts: SoakCounts;
  machine: Machine;
  timing: FlowTiming;
  soak: SoakFlow;
  faults: DatabaseFaults;
}): SoakReport {
  const { keys, machine } = run;
  const seconds = (Date.now() - run.started) / 1000;
  const names = new Set([...keys.valid].map(nameOf));
  return {
    ok: run.problems.length === 0,
    problems: run.problems,
    published: keys.published.length,
    distinctKeys: keys.valid.size,
    poisonKeys: keys.poison.size,
    names: names.size,
    unpublishableNames: [...names].filter(isUnpublishable).length,
    seconds,
    messagesPerSecond: keys.published.length / seconds,
    machine: {
      cores: availableParallelism(),
      cpuHogProcesses: machine.hog?.processes ?? 0,
      loadAverageAtStart: machine.load.atStart,
      loadAverageMax: machine.load.max,
    },
    flow: flowFigures(run.soak.stats, run.timing, run.soak.flow.maxReceiveCount),
    faults: faultFigures(run.faults.proxy.cuts(), run.faults.rotation.figures(), run.soak.publishFaults()),
    counts: run.counts,
  };
}
