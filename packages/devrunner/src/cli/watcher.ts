import { watch as watchFiles } from "node:fs";
import { registerHooks } from "node:module";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type * as WatchSession from "../commands/watch-session.ts";
import { repositoryRoot } from "./paths.ts";

/** Runs a command once per call, one run at a time; calls made during a run become one run after it. */
export interface Rerunner {
  run(reason: string): Promise<void>;
  close(): Promise<void>;
  /** What stays open between runs (lent to linked commands, see session-link/). */
  readonly state: WatchSession.WatchState;
}

/**
 * Opens what stays open between runs (the database, the local queues) and returns a runner whose every
 * run imports the project's own modules afresh (a new URL per generation); node_modules, and so the open
 * database, stay loaded.
 */
export async function rerunOnChange(
  command: "process" | "invoke",
  argv: readonly string[],
): Promise<Rerunner> {
  let generation = 0;
  freshProjectModules(() => generation);
  const session = await loadSession(generation);
  const state = await session.openWatchState(command, argv);
  let running = false;
  let pending: string | undefined;
  const run = async (reason: string): Promise<void> => {
    if (running) {
      pending = reason;
      return;
    }
    running = true;
    generation += 1;
    await runGeneration(generation, reason, state);
    running = false;
    if (pending) {
      const next = pending;
      pending = undefined;
      await run(next);
    }
  };
  return { run, close: () => state.close(), state };
}

async function runGeneration(
  generation: number,
  reason: string,
  state: WatchSession.WatchState,
): Promise<void> {
  const started = performance.now();
  process.stderr.write(`\n── run ${generation}: ${reason}\n`);
  try {
    const exitCode = await (await loadSession(generation)).runOnce(state);
    process.stderr.write(
      `── run ${generation} done in ${(performance.now() - started).toFixed(0)} ms (exit ${exitCode})\n`,
    );
  } catch (error) {
    process.stderr.write(`── run ${generation} failed: ${(error as Error).message}\n`);
  }
}

async function loadSession(generation: number): Promise<typeof WatchSession> {
  return (await import(`../commands/watch-session.ts?generation=${generation}`)) as typeof WatchSession;
}

/** A module hook: the project's sources (packages/*\/src) resolve to a URL of the current generation. */
function freshProjectModules(generation: () => number): void {
  const sourceRoot = pathToFileURL(join(repositoryRoot(), "packages")).href;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      if (
        resolved.url.startsWith(sourceRoot) &&
        !resolved.url.includes("/node_modules/") &&
        resolved.url.includes("/src/")
      )
        return { ...resolved, url: `${resolved.url.split("?")[0]}?generation=${generation()}` };
      return resolved;
    },
  });
}

/** Calls `onChange` (debounced 25 ms) when a source file under packages/*\/src or template.yaml changes. */
export function watchSources(onChange: (reason: string) => void): { close(): void } {
  const root = repositoryRoot();
  let timer: NodeJS.Timeout | undefined;
  const changed = (reason: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(reason), 25);
  };
  const watchers = [
    watchFiles(join(root, "packages"), { recursive: true }, (_event, file) => {
      if (
        !file ||
        file.includes("node_modules") ||
        file.includes("/dist/") ||
        !/\/src\/.*\.ts$/.test(`/${file}`)
      )
        return;
      changed(`${relative(root, join(root, "packages", file))} changed`);
    }),
    watchFiles(root, (_event, file) => {
      if (file === "template.yaml") changed("template.yaml changed");
    }),
  ];
  return { close: () => watchers.forEach((watcher) => watcher.close()) };
}
