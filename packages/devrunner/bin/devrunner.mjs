#!/usr/bin/env node
// The devrunner's launcher. Start-up time is the product here, so it (1) turns on Node's compile cache and
// (2) runs a bundle of the CLI (one file instead of hundreds of modules), rebuilt with esbuild whenever a
// source is newer. `watch` runs from the sources, because it reloads them in-process on every save.
import { existsSync, statSync } from "node:fs";
import module from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

module.enableCompileCache?.();
const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, "..");
const source = join(packageDir, "src", "cli.ts");

async function bundled() {
  // The same freshness check `invoke` uses for the Lambda bundle.
  const { newestModification } = await import("./newest-modification.mjs");
  const outdir = join(packageDir, ".bundle");
  const bundle = join(outdir, "cli.mjs");
  const sources = ["devrunner", "domain", "adapters"].map((name) => join(packageDir, "..", name, "src"));
  if (
    existsSync(bundle) &&
    statSync(bundle).mtimeMs >= newestModification([...sources, join(packageDir, "package.json"), here])
  )
    return bundle;
  const { build } = await import("esbuild");
  await build({
    entryPoints: { cli: source, worker: join(packageDir, "src", "local-aws", "runtime", "worker.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node24",
    sourcemap: "inline",
    keepNames: true,
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    // Heavy and only sometimes needed: loaded from node_modules when a command asks for them.
    external: [
      "@electric-sql/pglite",
      "@electric-sql/pglite-socket",
      "fauxqs",
      "@aws-sdk/*",
      "pg-native",
      "esbuild",
      "testcontainers",
      "@testcontainers/*",
    ],
    logLevel: "error",
  });
  return bundle;
}

// A running `up` or `watch` of this checkout takes `process`, `publish` and `invoke` over (src/session-link): no
// bundle to load, no database to open here.
const linked = await handOff(process.argv[2]);
if (linked !== undefined) {
  process.exitCode = linked;
} else {
  const useSources = process.argv[2] === "watch" || process.env.DEVRUNNER_FROM_SOURCE === "1";
  await import(pathToFileURL(useSources ? source : await bundled()).href);
}

async function handOff(command) {
  const { LINKED_COMMANDS, handOffToSession, linkSocketPath } = await import("./session-link.mjs");
  if (!LINKED_COMMANDS.includes(command) || process.env.DEVRUNNER_NO_SESSION === "1") return undefined;
  const request = { command, argv: process.argv.slice(3), cwd: process.cwd(), env: process.env };
  return handOffToSession(request, linkSocketPath(process.env, join(packageDir, "..", "..")));
}
