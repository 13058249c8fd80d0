import { start } from "node:repl";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { replApp } from "../cli/repl-app.ts";
import { TARGET_FLAGS, describeTarget, resolveTarget } from "../cli/target.ts";
import { openDevApp } from "../root.ts";

export const REPL_SPEC = {
  name: "repl",
  synopsis: "repl [options]",
  description: `A Node REPL with the wired app:
  await app.process("KEY")            process one key (or an array of keys) and relay the events
  await app.get("NAME")               an entity's current state and recent observations
  app.service                         the domain's use cases (processEntities, deliverEvents, relayOutbox, getEntity, listOutbox)
  app.published()                     events published in this session (in-memory messaging)`,
  flags: [...TARGET_FLAGS],
} as const satisfies CommandSpec<(typeof TARGET_FLAGS)[number]>;

export function replCommand(argv: readonly string[]): Promise<number> {
  return runCommand(REPL_SPEC, argv, async (values) => {
    const { env, target } = resolveTarget(values);
    const devApp = await openDevApp({ target, env });
    process.stdout.write(
      `target: ${describeTarget(target)}\napp.process("KEY"), app.get("NAME"); .exit to leave\n`,
    );
    const server = start({ prompt: "entity> " });
    server.context.app = replApp(devApp);
    await new Promise<void>((resolveExit) => server.on("exit", () => resolveExit()));
    await devApp.close();
    return 0;
  });
}
