import { existsSync } from "node:fs";
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
