// The functions' bundle, as esbuild builds it: build.ts (what `sam build` runs through the Makefile) and
// build-server.ts (a running `devrunner up`'s incremental rebuilds) build the same artifact from these.
import { join } from "node:path";
import type { BuildOptions } from "esbuild";

/** One entry per function: `<name>.mjs`, the module its Handler names (`<name>.handler`). */
export const ENTRY_POINTS = ["index", "relay", "migrate"] as const;

export function bundleOptions(packageDir: string, outdir: string): BuildOptions {
  return {
    entryPoints: Object.fromEntries(
      ENTRY_POINTS.map((name) => [name, join(packageDir, "src", `${name}.ts`)]),
    ),
    outdir,
    outExtension: { ".js": ".mjs" },
    // The AWS SDK is imported on first use (a dynamic import): as its own chunks, a cold start does not
    // parse it before the first message needs it.
    splitting: true,
    chunkNames: "chunk-[hash]",
    bundle: true,
    platform: "node",
    // ES module builds first (the AWS SDK ships both): they tree-shake, and a dynamic import of them keeps
    // its named exports (a CommonJS build in a chunk exposes only `default`).
    mainFields: ["module", "main"],
    target: "node24",
    format: "esm",
    minify: true,
    keepNames: true,
    sourcemap: true,
    legalComments: "none",
    // pg probes for its optional native binding; ESM output has no `require`, so give it one.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    external: ["pg-native"],
    logLevel: "warning",
  };
}
