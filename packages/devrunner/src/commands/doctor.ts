import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { createOutput } from "../cli/output.ts";
import { TARGET_FLAGS } from "../cli/target.ts";
import { formatCheck } from "../doctor/checks.ts";
import { runDoctor, summarise } from "../doctor/doctor.ts";
import { planDoctor } from "../doctor/plan.ts";

export const DOCTOR_SPEC = {
  name: "doctor",
  synopsis: "doctor [FunctionLogicalId] [--env-file FILE] [-n FILE] [--json] [options]",
  description: `Checks the function's database as a deploy needs it, one line per check (ok / warn / FAIL / n/a):
  database  it answers: server version, round-trip time
  tls       DB_SSL is verify-full (require: warn, it does not verify; disable: FAIL on a remote host,
            warn on a local one or a tunnel)
  schema    no migration pending
  role      the function's role has select, insert, update on entity, observation, outbox and no DDL:
            it does not own them, has no CREATE on the schema or the database, is not a superuser
  budget    every function of the template at full concurrency (SQS: MaximumConcurrency x DB_POOL_MAX;
            a schedule: 1 x DB_POOL_MAX) fits in max_connections less the reserved slots and the
            sessions open now (FAIL over it, warn over 80 %)
It only reads. The database and DB_POOL_MAX are the function's, resolved as \`invoke\` resolves them
(template defaults, --parameter-overrides, DB_* from the environment or --env-file, the env-vars file).
On the embedded database and --db memory only the schema applies; the rest is n/a.`,
  flags: ["template", "env-vars", "parameter-overrides", ...TARGET_FLAGS, "json"],
  positionals: 1,
  flagHelp: { json: "every check as one JSON document" },
  exitCodes: "Exit codes: 0 nothing failed, 1 a check failed, 2 bad usage.",
} as const satisfies CommandSpec<
  "template" | "env-vars" | "parameter-overrides" | (typeof TARGET_FLAGS)[number] | "json"
>;

export function doctorCommand(argv: readonly string[]): Promise<number> {
  return runCommand(DOCTOR_SPEC, argv, async (values, positionals) => {
    if (positionals.length > 1)
      throw new UsageError(`doctor: one function at a time, got ${positionals.join(", ")}`);
    const plan = planDoctor({ ...values, logicalId: positionals[0] });
    const output = createOutput(values.json);
    const report = await runDoctor(plan);
    output.note(
      `doctor: ${report.function}${report.environment ? ` (ENV=${report.environment})` : ""} on ${report.target}`,
    );
    for (const entry of report.checks) output.line(formatCheck(entry));
    output.line(summarise(report));
    output.result(report);
    return report.failed > 0 ? 1 : 0;
  });
}
