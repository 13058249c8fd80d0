import { parseDatabaseSettings, namesDatabase } from "@entity/adapters/postgres";
import { postgresTestImage } from "@entity/adapters/postgres-image";
import { parseCommandArgs } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import { userPath } from "../cli/paths.ts";
import { runSoak } from "../soak/soak.ts";
import { commandEnvironment, embeddedDataDir } from "../cli/target.ts";

export const SOAK_HELP = `devrunner soak [--messages N] [--fault-rate R] [--concurrency C] [--env-file FILE]

Publishes N keys (default 100,000; with duplicates, out-of-order stamps and 1 % poison keys) through the
local SNS -> SQS -> EntityFunction flow, with transient faults injected between the function and
Postgres (default 5 % of batches), then checks: rows equal distinct keys, no key lost, no duplicate
observation, every committed event published at least once, the DLQ holds exactly the poison keys.
Postgres: the one the environment (or --env-file) names, else a container (Docker; PG_TEST_IMAGE).
Exit code 0 when every check passes, 1 otherwise.`;

export async function soakCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs("soak", argv, {
    messages: { type: "string", default: "100000" },
    "fault-rate": { type: "string", default: "0.05" },
    concurrency: { type: "string", default: "4" },
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
    throw new UsageError(`--concurrency must be a positive whole number`);
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
      messages,
      faultRate,
      concurrency,
      database,
      templatePath: userPath(values.template),
      dataDir: embeddedDataDir(env),
      progress: (text) => void process.stderr.write(`soak: ${text}\n`),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      process.stdout.write(
        [
          `${report.ok ? "PASS" : "FAIL"}: ${report.published} messages in ${report.seconds.toFixed(1)} s (${report.messagesPerSecond.toFixed(0)} msg/s)`,
          `  distinct keys ${report.distinctKeys}, names ${report.names}, poison ${report.poisonKeys}`,
          `  stored: ${report.counts.entities} entities, ${report.counts.observations} observations; events published ${report.counts.outboxPublished}, delivered ${report.counts.outboundMessages}; dead-lettered ${report.counts.deadLettered}`,
          `  faults injected ${report.faultsInjected}; batches ${report.batches}; records reported failed and retried ${report.failedRecords}`,
          ...report.problems.map((problem) => `  problem: ${problem}`),
          "",
        ].join("\n"),
      );
    }
    return report.ok ? 0 : 1;
  } finally {
    await stopContainer?.();
  }
}
