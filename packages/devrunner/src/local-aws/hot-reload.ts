import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import { buildGroup, buildInto, SOURCES } from "./build.ts";
import { startBuildServer } from "./build-server.ts";
import type { LocalAwsConfig } from "./config.ts";
import type { FunctionPool } from "./runtime/function-pool.ts";
import { workerSettings } from "./runtime/runtime-environment.ts";
import type { SamFunctionDefinition, SamTemplate } from "./template/sam-template.ts";

export type ReloadEvent =
  | {
      readonly status: "reloaded";
      readonly reason: string;
      readonly generation: number;
      /** From the change seen to the new environments started (their init runs from here). */
      readonly buildMs: number;
      /** The build server's own share of `buildMs` (bundling and writing), when one built it. */
      readonly bundlerMs?: number;
    }
  | {
      readonly status: "warm";
      readonly generation: number;
      /** The first new environment's init, begun when the build ended. */
      readonly initMs: number;
      /** From the change seen to that environment ready for the next message. */
      readonly sinceChangeMs: number;
    }
  | { readonly status: "failed"; readonly reason: string; readonly error: Error };

export interface HotReloadOptions {
  readonly config: Pick<LocalAwsConfig, "repositoryRoot" | "buildDir">;
  readonly template: SamTemplate;
  readonly definition: SamFunctionDefinition;
  /** The function's environment as prepared; only its task root changes from build to build. */
  readonly env: Readonly<Record<string, string>>;
  readonly pool: FunctionPool;
  readonly onReload: (event: ReloadEvent) => void;
}

export interface HotReload {
  /** Rebuilds now (what a change to a source does); changes during a build make one more build after it. */
  reload(reason: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Rebuilds the function when one of its sources changes and replaces its warm environments: invocations
 * running finish on the old code, the next one runs the new. Builds go through the Makefile's incremental
 * build server when it has one (`serve-build-<Id>`), else `make build-<Id>`; each to a folder of its own
 * (the old code's lazily imported chunks stay in place while it runs), removed once its environments have
 * ended. A failed build is reported and the old code keeps serving.
 */
export function startHotReload(options: HotReloadOptions): HotReload {
  const { template, definition, pool, onReload } = options;
  const { buildId } = buildGroup(template, definition.logicalId);
  // One folder per running flow (two `up`s may share a build folder), a folder per build inside it.
  mkdirSync(options.config.buildDir, { recursive: true });
  const generations = mkdtempSync(join(options.config.buildDir, `${buildId}.reload-`));
  const server = startBuildServer(options.config.repositoryRoot, buildId, join(generations, "staging"));
  const aborting = new AbortController();
  let generation = 0;
  let live: string | undefined;
  let building: Promise<void> | undefined;
  let pending: string | undefined;

  const buildOnce = async (reason: string): Promise<void> => {
    const started = performance.now();
    // The next environments' processes start during the build (Node's start-up is not on the reload's path).
    pool.prepare();
    generation += 1;
    const artifactsDir = join(generations, String(generation));
    let bundlerMs: number | undefined;
    try {
      if (server?.running) bundlerMs = await server.build(artifactsDir);
      else await buildInto(template, definition.logicalId, options.config, artifactsDir, aborting.signal);
    } catch (error) {
      rmSync(artifactsDir, { recursive: true, force: true });
      if (!aborting.signal.aborted) onReload({ status: "failed", reason, error: error as Error });
      return;
    }
    if (aborting.signal.aborted) return;
    const env = { ...options.env, LAMBDA_TASK_ROOT: artifactsDir, LAMBDA_RUNTIME_DIR: artifactsDir };
    const built = performance.now();
    const { retired, firstWarm } = pool.replace(workerSettings(definition, env));
    onReload({
      status: "reloaded",
      reason,
      generation,
      buildMs: built - started,
      ...(bundlerMs === undefined ? {} : { bundlerMs }),
    });
    const thisGeneration = generation;
    void firstWarm.then(() => {
      if (aborting.signal.aborted) return;
      const now = performance.now();
      onReload({
        status: "warm",
        generation: thisGeneration,
        initMs: now - built,
        sinceChangeMs: now - started,
      });
    });
    const previous = live;
    live = artifactsDir;
    if (previous) void retired.then(() => rmSync(previous, { recursive: true, force: true }));
  };

  const reload = (reason: string): Promise<void> => {
    if (building) {
      pending = reason;
      return building;
    }
    building = buildOnce(reason).finally(() => {
      building = undefined;
      const next = pending;
      pending = undefined;
      if (next && !aborting.signal.aborted) void reload(next);
    });
    return building;
  };

  const watchers = watchSources(options.config.repositoryRoot, (reason) => void reload(reason));
  return {
    reload,
    close: async () => {
      for (const watcher of watchers) watcher.close();
      aborting.abort();
      server?.close();
      await building;
      rmSync(generations, { recursive: true, force: true });
    },
  };
}

/**
 * An editor's scratch file, not a source: vim's write probe `4913` (and `5036`, ...), its swap files
 * (`.x.swp`, `.swo`, `.swx`), backups ending in `~`, emacs's `#x#` and `.#x` lock files, JetBrains'
 * `x___jb_tmp___`. Saving through one of them ends with an event on the source itself.
 */
export function isEditorTemp(path: string): boolean {
  return /(^|\/)(\d+|#[^/]*#|\.#[^/]*)$|\.sw[a-z]$|~$|___jb_(tmp|old)___$/.test(path);
}

/** Calls `onChange` (debounced 25 ms) when a file the build reads changes; tests do not count. */
function watchSources(root: string, onChange: (reason: string) => void): FSWatcher[] {
  let timer: NodeJS.Timeout | undefined;
  const changed = (path: string): void => {
    clearTimeout(timer);
    timer = setTimeout(() => onChange(`${path} changed`), 25);
  };
  const watchers: FSWatcher[] = [];
  const files: string[] = [];
  for (const source of SOURCES) {
    const path = join(root, source);
    if (!existsSync(path)) continue;
    if (!statSync(path).isDirectory()) {
      files.push(source);
      continue;
    }
    watchers.push(
      watch(path, { recursive: true }, (_event, file) => {
        if (!file || /(^|\/)(node_modules|dist|\.[^/]*)(\/|$)|\.test\.ts$/.test(file) || isEditorTemp(file))
          return;
        changed(join(source, file));
      }),
    );
  }
  // Editors often save by renaming a new file over the old one: watch the folder, not the file.
  for (const folder of new Set(files.map((file) => dirname(file)))) {
    const names = files.filter((file) => dirname(file) === folder).map((file) => basename(file));
    watchers.push(
      watch(join(root, folder), (_event, file) => {
        if (file && names.includes(file)) changed(join(folder, file));
      }),
    );
  }
  return watchers;
}
