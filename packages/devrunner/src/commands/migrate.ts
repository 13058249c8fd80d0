import { parseCommandArgs } from "../cli/args.ts";
import { openDevApp } from "../root.ts";
import { createOutput } from "../cli/output.ts";
import { describeTarget, OUTPUT_OPTIONS, resolveTarget, TARGET_OPTIONS } from "../cli/target.ts";

export const MIGRATE_HELP = `devrunner migrate [--status] [options]

Applies pending migrations to the target database (--status: only lists them).

Options:
  --status                    list migrations and when each ran; change nothing
  --db pglite|postgres, --env-file FILE, --data-dir DIR, --allow-prod, --json   as for \`process\`
  -h, --help`;

export async function migrateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs("migrate", argv, {
    status: { type: "boolean", default: false },
    ...TARGET_OPTIONS,
    ...OUTPUT_OPTIONS,
  });
  if (values.help) {
    process.stdout.write(`${MIGRATE_HELP}\n`);
    return 0;
  }
  const { env, target } = resolveTarget(values, { readOnly: values.status });
  const output = createOutput(values.json);
  output.note(`target: ${describeTarget(target)}`);
  const app = await openDevApp({ target, env, checkSchema: false });
  try {
    const applied = values.status ? [] : await app.migrate();
    for (const name of applied) output.line(`applied  ${name}`);
    const status = await app.migrationStatus();
    for (const entry of status)
      output.line(
        `${entry.executedAt ? "done   " : "pending"}  ${entry.name}${entry.executedAt ? `  ${entry.executedAt.toISOString()}` : ""}`,
      );
    output.result({ target: describeTarget(target), applied, migrations: status });
    return 0;
  } finally {
    await app.close();
  }
}
