import { UsageError } from "../cli/errors.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import { createOutput } from "../cli/output.ts";
import { runProcess } from "../cli/process-report.ts";
import { TARGET_FLAGS, describeTarget, resolveTarget } from "../cli/target.ts";
import { openDevApp } from "../root.ts";

export const PROCESS_SPEC = {
  name: "process",
  synopsis: "process KEY... [options]",
  description: "Runs the domain on each key, as the Lambda would, straight from the terminal.",
  flags: [...TARGET_FLAGS, "json"],
  positionals: "any",
  exitCodes:
    "Exit codes: 0 all keys accepted, 1 a key was invalid or failed, 2 bad usage, 3 production refused.",
} as const satisfies CommandSpec<(typeof TARGET_FLAGS)[number] | "json">;

export function processCommand(argv: readonly string[]): Promise<number> {
  return runCommand(PROCESS_SPEC, argv, async (values, keys) => {
    requireKeys(keys);
    recordLastCommand("process", argv);
    const { env, target } = resolveTarget(values);
    const output = createOutput(values.json);
    output.note(`target: ${describeTarget(target)}`);
    const app = await openDevApp({ target, env });
    try {
      return await runProcess(app, keys, output);
    } finally {
      await app.close();
    }
  });
}

/** `process` (and `watch process`) without a key is bad usage. */
export function requireKeys(keys: readonly string[]): void {
  if (keys.length === 0)
    throw new UsageError("process: give at least one KEY\nrun `devrunner process --help` for usage");
}
