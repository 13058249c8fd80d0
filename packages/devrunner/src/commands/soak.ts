import { parseDatabaseSettings, namesDatabase } from "@entity/adapters/postgres";
import { postgresTestImage } from "@entity/adapters/postgres-image";
import { parseCommandArgs } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import { userPath } from "../cli/paths.ts";
import { runSoak, type SoakReport } from "../soak/soak.ts";
import { commandEnvironment, embeddedDataDir, localAwsConfigFor } from "../cli/target.ts";

export const SOAK_HELP = `devrunner soak [--messages N] [--fault-rate R] [--concurrency C] [--rotate-every S]
                [--cpu-hog] [--json] [--env-file FILE] [--template FILE]

Publishes N keys (default 100,000; with duplicates, out-of-order stamps, 1 % poison keys and 0.5 % of
names marked unpublishable) through the local SNS -> SQS -> EntityFunction flow while it injects faults:
cut database connections (--fault-rate, default 5 % of batches), the function's database password rotated
every S seconds (default 10; the function reads it from a fake Secrets Manager), events of unpublishable
names refused by the outbound queue for good, and 1 % of events failed transiently on their first
delivery. EntityFunction runs with a 5 s Timeout and its queue with a 30 s visibility timeout (6x, as AWS
advises). --cpu-hog keeps every core busy with other work for the whole run.
Then it checks: no valid key lost, no observation doubled, entity states match; every committed event
delivered at least once, or parked when its entity is unpublishable (with the refusal as reason), none
pending; nothing left in the queue; the DLQ holds exactly the poison keys and no valid key.
Postgres: the one the environment (or --env-file) names (its user must be able to create roles), else a
container (Docker; PG_TEST_IMAGE). Exit code 0 when every check passes, 1 otherwise, 2 on bad usage.`;

export async function soakCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs("soak", argv, {
    messages: { type: "string", default: "100000" },
    "fault-rate": { type: "string", default: "0.05" },
    concurrency: { type: "string", default: "4" },
    "rotate-every": { type: "string", default: "10" },
    "cpu-hog": { type: "boolean", default: false },
    "env-file": { type: "string" },
    template: { type: "string", default: "template.yaml" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${SOAK_HELP}\n`);
    return 0;
  }
  const messages = Number(values.messages);
  const faultRate = Number(values["fault-rate"]);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(messages) || messages < 1)
    throw new UsageError(`--messages must be a positive whole number, not '${values.messages}'`);
  if (!(faultRate >= 0 && faultRate < 1))
    throw new UsageError(`--fault-rate must be from 0 to 1, not '${values["fault-rate"]}'`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new UsageError(`--concurrency must be a positive whole number, not '${values.concurrency}'`);
  const rotateEvery = Number(values["rotate-every"]);
  if (!(rotateEvery > 0))
    throw new UsageError(
      `--rotate-every must be a positive number of seconds, not '${values["rotate-every"]}'`,
    );
  const env = commandEnvironment(values["env-file"] && userPath(values["env-file"]));
  let stopContainer: (() => Promise<unknown>) | undefined;
  let database: { host: string; port: number; user: string; password: string; database: string };
  if (namesDatabase(env)) {
    const settings = parseDatabaseSettings(env);
    database = {
      host: settings.host,
      port: settings.port,
      user: settings.user ?? "",
      password: settings.password ?? "",
      database: settings.database,
    };
  } else {
    const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
    const image = postgresTestImage(env);
    process.stderr.write(`soak: starting Postgres 17 (${image})\n`);
    const container = await new PostgreSqlContainer(image).start();
    stopContainer = () => container.stop();
    database = {
      host: container.getHost(),
      port: container.getPort(),
      user: container.getUsername(),
      password: container.getPassword(),
      database: container.getDatabase(),
    };
  }
  try {
    const report = await runSoak({
      config: localAwsConfigFor(env),
      messages,
      faultRate,
      concurrency,
      rotateEverySeconds: rotateEvery,
      cpuHog: values["cpu-hog"],
      database,
      templatePath: userPath(values.template),
      dataDir: embeddedDataDir(env),
      progress: (text) => void process.stderr.write(`soak: ${text}\n`),
    });
    process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatSoakReport(report));
    return report.ok ? 0 : 1;
  } finally {
    await stopContainer?.();
  }
}

/** The report as the README quotes it. */
export function formatSoakReport(report: SoakReport): string {
  const { machine, flow, faults, counts } = report;
  return [
    `${report.ok ? "PASS" : "FAIL"}: ${report.published} messages in ${report.seconds.toFixed(1)} s (${report.messagesPerSecond.toFixed(0)} msg/s); ${machine.cores} cores, load average ${machine.loadAverageAtStart.toFixed(1)} at the start, ${machine.loadAverageMax.toFixed(1)} at most${machine.cpuHogProcesses > 0 ? `, CPU hog: ${machine.cpuHogProcesses} busy processes` : ""}`,
    `  keys: ${report.distinctKeys} distinct valid, ${report.poisonKeys} poison; ${report.names} names, ${report.unpublishableNames} unpublishable`,
    `  stored: ${counts.entities} entities, ${counts.observations} observations; ${counts.queued} messages left in the queue`,
    `  events: ${counts.events} committed; ${counts.eventsPublished} published (${counts.outboundMessages} messages, ${counts.duplicateDeliveries} of them repeats), ${counts.eventsParked} parked (${counts.unpublishableEvents} of unpublishable names), ${counts.eventsPending} pending; ${counts.flakyEvents} flaky, ${counts.eventsRecovered} published after a failed attempt`,
    `  DLQ: ${counts.deadLetteredKeys} keys in ${counts.deadLettered} messages, ${counts.validKeysDeadLettered} of them valid`,
    `  faults: ${faults.databaseCuts} database connections cut; ${faults.rotations} password rotations (${faults.userSwitches} to the other role), ${faults.sessionsTerminated} sessions terminated, ${faults.secretFetches} secret fetches; ${faults.publishRefusals} publish refusals, ${faults.transientPublishFailures} transient publish failures`,
    `  flow: Timeout ${flow.functionTimeoutSeconds} s, visibility timeout ${flow.visibilityTimeoutSeconds} s, maxReceiveCount ${flow.maxReceiveCount}; ${flow.batches} batches, ${flow.failedRecords} records retried; relay ran ${flow.relayRuns} times; ${flow.mappingErrors} mapping errors`,
    `  invocations: ${flow.invocationMsP50} ms median, ${flow.invocationMsP99} ms p99, ${flow.slowestInvocationMs} ms slowest, ${flow.timedOutInvocations} timed out; ${flow.coldStarts} cold starts, slowest init ${flow.slowestInitMs} ms`,
    ...report.problems.map((problem) => `  problem: ${problem}`),
    "",
  ].join("\n");
}
