// Builds EntityFunction: an ESM bundle (index.mjs + sourcemap) and a zip of it. Prints the bundle size
// and the cold-import time. `sam build` calls it through the Makefile's build-EntityFunction target.
//   node packages/lambda/scripts/build.ts [--outdir DIR] [--zip FILE | --no-zip] [--quiet]
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { writeZip } from "./zip.ts";

const packageDir = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    outdir: { type: "string", default: join(packageDir, "dist", "function") },
    zip: { type: "string", default: join(packageDir, "dist", "entity-function.zip") },
    "no-zip": { type: "boolean", default: false },
    quiet: { type: "boolean", default: false },
  },
});
const outdir = resolve(values.outdir);
/** The Lambda entry points of this package: EntityFunction (index) and OutboxRelayFunction (relay). */
const ENTRIES = ["index", "relay"];
const bundle = join(outdir, "index.mjs");

// Stale chunks of an earlier build must not ship: remove this build's kind of files, nothing else.
mkdirSync(outdir, { recursive: true });
for (const name of readdirSync(outdir)) if (/\.mjs(\.map)?$/.test(name)) rmSync(join(outdir, name));
await build({
  // One entry per function handler in template.yaml (Handler: index.handler, relay.handler).
  entryPoints: Object.fromEntries(ENTRIES.map((name) => [name, join(packageDir, "src", `${name}.ts`)])),
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
});
if (!values["no-zip"]) {
  mkdirSync(dirname(values.zip), { recursive: true });
  writeZip(
    values.zip,
    artifactFiles().map((name) => join(outdir, name)),
  );
}

if (!values.quiet) {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;
  const code = artifactFiles().filter((name) => name.endsWith(".mjs"));
  const total = code.reduce((sum, name) => sum + statSync(join(outdir, name)).size, 0);
  console.log(
    `bundle ${outdir}: ${kib(total)} minified in ${code.length} files (sourcemaps not counted); loaded at init: index.mjs ${kib(statSync(bundle).size)}`,
  );
  if (!values["no-zip"]) console.log(`zip ${values.zip}: ${kib(statSync(values.zip).size)}`);
  const coldImport = measureColdImport(bundle);
  console.log(`cold import (load the bundle, parse config, build the container; no I/O): ${coldImport}`);
}

function measureColdImport(file: string): string {
  const env = {
    ...process.env,
    ENV: "dev",
    DB_HOST: "127.0.0.1",
    DB_NAME: "entities",
    DB_USER: "app",
    DB_PASSWORD: "unused",
    OUTBOUND_QUEUE_URL: "http://127.0.0.1:1/000000000000/outbound",
    DLQ_URL: "http://127.0.0.1:1/000000000000/dlq",
    AWS_REGION: "us-east-1",
  };
  const time = (script: string): number => {
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, ["--input-type=module", "-e", script], { env, stdio: "pipe" });
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const runs = 5;
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const baseline = median(Array.from({ length: runs }, () => time("")));
  const withImport = median(
    Array.from({ length: runs }, () => time(`await import(${JSON.stringify(`file://${file}`)});`)),
  );
  return `${(withImport - baseline).toFixed(0)} ms over \`node -e ''\` (${withImport.toFixed(0)} ms vs ${baseline.toFixed(0)} ms, median of ${runs})`;
}

function artifactFiles(): string[] {
  return readdirSync(outdir)
    .filter((name) => name.endsWith(".mjs") || name.endsWith(".mjs.map"))
    .sort();
}
