import { readLastCommand } from "../cli/last-command.ts";
import { UsageError } from "../cli/errors.ts";
import { helpText, type CommandSpec } from "../cli/flags.ts";
import { untilStopped } from "../cli/signals.ts";
import { rerunOnChange, watchSources } from "../cli/watcher.ts";
import { linkWatchInvoke } from "../session-link/invoke.ts";
import { linkWatchSession } from "../session-link/work.ts";

export const WATCH_SPEC = {
  name: "watch",
  synopsis: "watch [process ARGS... | invoke ARGS...]",
  description: `Re-runs \`process\` or \`invoke\` whenever a source file (packages/*/src, template.yaml) changes. Without
arguments, re-runs the last \`process\` or \`invoke\` you ran. The database (and for invoke, the local
queues) stay open between runs; \`process\` reloads the changed code in-process, \`invoke\` rebuilds the
bundle and starts a fresh execution environment. Ctrl-C stops it.`,
  flags: [],
} as const satisfies CommandSpec<never>;

export async function watchCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(`${helpText(WATCH_SPEC)}\n`);
    return 0;
  }
  const { command, rest } = commandToWatch(argv);
  const runner = await rerunOnChange(command, rest);
  await runner.run(`${command} ${rest.join(" ")}`);
  const link =
    runner.state.kind === "process"
      ? await linkWatchSession(runner.state.app)
      : await linkWatchInvoke(runner.state);
  const watcher = watchSources((reason) => void runner.run(reason));
  process.stderr.write("watching packages/*/src and template.yaml; Ctrl-C to stop\n");
  await untilStopped();
  watcher.close();
  await link?.close();
  await runner.close();
  return 0;
}

/** The command given, or the last `process` / `invoke` run (from the folder it ran in). */
function commandToWatch(argv: readonly string[]): { command: "process" | "invoke"; rest: readonly string[] } {
  let command = argv[0];
  let rest = argv.slice(1);
  if (command === undefined) {
    const last = readLastCommand();
    if (!last)
      throw new UsageError(
        "watch: nothing to re-run yet: run `devrunner process KEY` or `devrunner invoke ...` first, or give one",
      );
    command = last.command;
    rest = last.argv;
    process.env.INIT_CWD = last.cwd;
  }
  if (command !== "process" && command !== "invoke")
    throw new UsageError(`watch: can re-run process or invoke, not '${command}'`);
  return { command, rest };
}
