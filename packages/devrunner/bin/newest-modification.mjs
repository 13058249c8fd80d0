// Plain JavaScript, shared by the launcher (which must not load Node's type stripper just to check a
// bundle's freshness) and src/local-aws/build.ts. Types: newest-modification.d.mts.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Newest modification time (ms) of the files under these paths (folders walked, node_modules and dist skipped). */
export function newestModification(paths) {
  let newest = 0;
  const visit = (path) => {
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
