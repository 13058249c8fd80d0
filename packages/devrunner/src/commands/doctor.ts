import { parseCommandArgs } from "../cli/args.ts";
import { formatCheck } from "../doctor/checks.ts";
import { runDoctor, summarise } from "../doctor/doctor.ts";
import { planDoctor } from "../doctor/plan.ts";
import { UsageError } from "../cli/errors.ts";
import { createOutput } from "../cli/output.ts";
import { OUTPUT_OPTIONS, TARGET_OPTIONS } from "../cli/target.ts";

export const DOCTOR_HELP = `devrunner doctor [FunctionLogicalId] [--env-file FILE] [-n FILE] [--json] [options]

Checks the function's database as a deploy needs it, one line per check (ok / warn / FAIL / n/a):
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
On the embedded database and --db memory only the schema applies; the rest is n/a.

Options:
  -t, --template FILE          default template.yaml
  -n, --env-vars FILE          SAM env-vars JSON (as for invoke)
  --parameter-overrides "K=V ..."  template parameters (MaximumConcurrency=20, ...)
  --db memory|pglite|postgres, --env-file FILE, --data-dir DIR   as for \`process\`
  --json                       every check as one JSON document
  -h, --help

Exit codes: 0 nothing failed, 1 a check failed, 2 bad usage.`;

export const DOCTOR_OPTIONS = {
  ...TARGET_OPTIONS,
  template: { type: "string", short: "t", default: "template.yaml" },
  "env-vars": { type: "string", short: "n" },
  "parameter-overrides": { type: "string" },
  ...OUTPUT_OPTIONS,
} as const;

export async function doctorCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs("doctor", argv, DOCTOR_OPTIONS);
  if (values.help) {
    process.stdout.write(`${DOCTOR_HELP}\n`);
    return 0;
  }
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
}
