import { watch as watchFiles, type FSWatcher } from "node:fs";
import { registerHooks } from "node:module";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { UsageError } from "../cli/errors.ts";
import { readLastCommand } from "../cli/last-command.ts";
import { repositoryRoot } from "../cli/paths.ts";
import type * as WatchSession from "./watch-session.ts";

export const WATCH_HELP = `devrunner watch [process ARGS... | invoke ARGS...]

Re-runs \`process\` or \`invoke\` whenever a source file (packages/*/src, template.yaml) changes. Without
arguments, re-runs the last \`process\` or \`invoke\` you ran. The database (and for invoke, the local
queues) stay open between runs; \`process\` reloads the changed code in-process, \`invoke\` rebuilds the
bundle and starts a fresh execution environment. Ctrl-C stops it.`;

export async function watchCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === "--help" || argv[0] === "-h") {
    process.stdout.write(`${WATCH_HELP}\n`);
    return 0;
  }
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

  const root = repositoryRoot();
  const sourceRoot = pathToFileURL(join(root, "packages")).href;
  let generation = 0;
  // Each run imports the project's own modules afresh (a new URL per generation); node_modules, and so the
  // open database, stay loaded.
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (
        resolved.url.startsWith(sourceRoot) &&
        !resolved.url.includes("/node_modules/") &&
        resolved.url.includes("/src/")
      ) {
        return { ...resolved, url: `${resolved.url.split("?")[0]}?generation=${generation}` };
      }
      return resolved;
    },
  });
  const session = (await import(`./watch-session.ts?generation=${generation}`)) as typeof WatchSession;
  const state = await session.openWatchState(command, rest);

  let running = false;
  let pending: string | undefined;
  const run = async (reason: string): Promise<void> => {
    if (running) {
      pending = reason;
      return;
    }
    running = true;
    generation += 1;
    const started = performance.now();
    process.stderr.write(`\n── run ${generation}: ${reason}\n`);
    try {
      const fresh = (await import(`./watch-session.ts?generation=${generation}`)) as typeof WatchSession;
      const exitCode = await fresh.runOnce(state);
      process.stderr.write(
        `── run ${generation} done in ${(performance.now() - started).toFixed(0)} ms (exit ${exitCode})\n`,
      );
    } catch (error) {
      process.stderr.write(`── run ${generation} failed: ${(error as Error).message}\n`);
    }
    running = false;
    if (pending) {
      const next = pending;
      pending = undefined;
      await run(next);
    }
  };

  await run(`${command} ${rest.join(" ")}`);
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [
    watchFiles(join(root, "packages"), { recursive: true }, (_event, file) => {
      if (
        !file ||
        file.includes("node_modules") ||
        file.includes("/dist/") ||
        !/\/src\/.*\.ts$/.test(`/${file}`)
      )
        return;
      clearTimeout(timer);
      timer = setTimeout(() => void run(`${relative(root, join(root, "packages", file))} changed`), 25);
    }),
    watchFiles(root, (_event, file) => {
      if (file !== "template.yaml") return;
      clearTimeout(timer);
      timer = setTimeout(() => void run("template.yaml changed"), 25);
    }),
  ];
  process.stderr.write("watching packages/*/src and template.yaml; Ctrl-C to stop\n");
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  for (const watcher of watchers) watcher.close();
  await state.close();
  return 0;
}
