import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { createOutput } from "../cli/output.ts";
import { TARGET_FLAGS, describeTarget, resolveTarget } from "../cli/target.ts";
import { openDevApp } from "../root.ts";

export const MIGRATE_SPEC = {
  name: "migrate",
  synopsis: "migrate [--status] [options]",
  description: "Applies pending migrations to the target database (--status: only lists them).",
  flags: ["status", ...TARGET_FLAGS, "json"],
} as const satisfies CommandSpec<"status" | (typeof TARGET_FLAGS)[number] | "json">;

export function migrateCommand(argv: readonly string[]): Promise<number> {
  return runCommand(MIGRATE_SPEC, argv, async (values) => {
    const { env, target } = resolveTarget(values, { readOnly: values.status });
    const output = createOutput(values.json);
    output.note(`target: ${describeTarget(target)}`);
    const app = await openDevApp({ target, env, checkSchema: false });
    try {
      const applied = values.status ? [] : await app.migrate();
      for (const name of applied) output.line(`applied  ${name}`);
      const status = await app.migrationStatus();
      for (const { name, executedAt } of status)
        output.line(
          `${executedAt ? "done   " : "pending"}  ${name}${executedAt ? `  ${executedAt.toISOString()}` : ""}`,
        );
      output.result({ target: describeTarget(target), applied, migrations: status });
      return 0;
    } finally {
      await app.close();
    }
  });
}
