import { randomUUID } from "node:crypto";
import { start } from "node:repl";
import { parseCommandArgs } from "../cli/args.ts";
import { openDevApp } from "../root.ts";
import { describeTarget, resolveTarget, TARGET_OPTIONS } from "../cli/target.ts";

export const REPL_HELP = `devrunner repl [--db memory|pglite|postgres] [--env-file FILE] [--data-dir DIR] [--allow-prod]

A Node REPL with the wired app:
  await app.process("KEY")            process one key (or an array of keys) and relay the events
  await app.get("NAME")               an entity's current state and recent observations
  app.service                         the domain's use cases (processEntities, deliverEvents, relayOutbox, getEntity, listOutbox)
  app.published()                     events published in this session (in-memory messaging)`;

export async function replCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs("repl", argv, {
    ...TARGET_OPTIONS,
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${REPL_HELP}\n`);
    return 0;
  }
  const { env, target } = resolveTarget(values);
  const devApp = await openDevApp({ target, env });
  process.stdout.write(
    `target: ${describeTarget(target)}\napp.process("KEY"), app.get("NAME"); .exit to leave\n`,
  );
  const app = {
    service: devApp.service,
    async process(keys: string | readonly string[]) {
      const list = typeof keys === "string" ? [keys] : keys;
      const results = await devApp.service.processEntities(
        list.map((key) => ({ key, messageId: `repl-${randomUUID()}` })),
      );
      await devApp.service.deliverEvents(results);
      return typeof keys === "string" ? results[0] : results;
    },
    get: (name: string) => devApp.service.getEntity(name),
    published: () => devApp.publishedInMemory(),
  };
  const server = start({ prompt: "entity> " });
  server.context.app = app;
  await new Promise<void>((resolveExit) => server.on("exit", () => resolveExit()));
  await devApp.close();
  return 0;
}
