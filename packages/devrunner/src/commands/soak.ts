import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { discoverTemplate } from "../cli/sam-options.ts";
import { userPath } from "../cli/paths.ts";
import { commandEnvironment, embeddedDataDir, localAwsConfigFor } from "../cli/target.ts";
import { loadTemplate } from "../local-aws/prepare.ts";
import { runSoakCommand, soakLimits } from "../soak/command.ts";

export const SOAK_SPEC = {
  name: "soak",
  synopsis: `soak [--messages N] [--fault-rate R] [--concurrency C] [--rotate-every S]
                [--cpu-hog] [--json] [--env-file FILE] [--template FILE]`,
  description: `Publishes N keys (default 100,000; with duplicates, out-of-order stamps, 1 % poison keys and 0.5 % of
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
container (Docker; PG_TEST_IMAGE).`,
  flags: ["messages", "fault-rate", "concurrency", "rotate-every", "cpu-hog", "json", "env-file", "template"],
  exitCodes: "Exit codes: 0 every check passed, 1 a check failed, 2 bad usage.",
} as const satisfies CommandSpec<
  "messages" | "fault-rate" | "concurrency" | "rotate-every" | "cpu-hog" | "json" | "env-file" | "template"
>;

export function soakCommand(argv: readonly string[]): Promise<number> {
  return runCommand(SOAK_SPEC, argv, async (values) => {
    const limits = soakLimits(values);
    const env = commandEnvironment(values["env-file"] && userPath(values["env-file"]));
    const template = discoverTemplate(values.template, env);
    // Before a container starts: a template that cannot be read fails as every command's does.
    loadTemplate(template.path, template.label);
    return runSoakCommand({
      ...limits,
      env,
      config: localAwsConfigFor(env),
      templatePath: template.path,
      dataDir: embeddedDataDir(env),
      cpuHog: values["cpu-hog"],
      json: values.json,
    });
  });
}
