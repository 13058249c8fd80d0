import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/** The folder the user typed the command in: pnpm runs scripts from the workspace root but keeps it in INIT_CWD. */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.env.INIT_CWD ?? process.cwd(), path);
}

/** A path for messages: relative to the user's folder when it is inside it, else absolute. */
export function displayPath(path: string): string {
  const inside = relative(process.env.INIT_CWD ?? process.cwd(), path);
  return inside && !inside.startsWith(`..${sep}`) && inside !== ".." && !isAbsolute(inside) ? inside : path;
}

/** The repository root: the nearest folder upwards holding pnpm-workspace.yaml. */
export function repositoryRoot(from = import.meta.dirname): string {
  let folder = from;
  while (!existsSync(join(folder, "pnpm-workspace.yaml"))) {
    const parent = dirname(folder);
    if (parent === folder) return process.cwd();
    folder = parent;
  }
  return folder;
}

/** Newest modification time (ms) of the files under these paths (folders walked, node_modules and dist skipped). */
export function newestModification(paths: readonly string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    const stats = statSync(path);
    if (stats.isDirectory()) {
      for (const entry of readdirSync(path)) {
        if (entry !== "node_modules" && entry !== "dist" && !entry.startsWith(".")) visit(join(path, entry));
      }
    } else {
      newest = Math.max(newest, stats.mtimeMs);
    }
  };
  for (const path of paths) visit(path);
  return newest;
}
