// Builds the package's functions into one artifact: an ESM entry per function (index.mjs for
// EntityFunction, migrate.mjs for MigrationFunction) with shared chunks and sourcemaps, and a zip of it.
// Prints the sizes and the cold-import time. `sam build` calls it through the Makefile's build-<Function>
// targets (every function of the template gets this same artifact; its Handler picks the entry).
//   node packages/lambda/scripts/build.ts [--outdir DIR] [--zip FILE | --no-zip] [--quiet]
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { build, type Metafile } from "esbuild";
import { bundleOptions, ENTRY_POINTS } from "./bundle-options.ts";
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
const bundle = join(outdir, "index.mjs");

// Stale chunks of an earlier build must not ship: remove this build's kind of files, nothing else.
mkdirSync(outdir, { recursive: true });
for (const name of readdirSync(outdir)) if (/\.mjs(\.map)?$/.test(name)) rmSync(join(outdir, name));
const { metafile } = await build({ ...bundleOptions(packageDir, outdir), metafile: true });
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
  const atInit = ENTRY_POINTS.map((name) => `${name}.mjs ${kib(loadedAtInit(metafile, `${name}.mjs`))}`);
  console.log(
    `bundle ${outdir}: ${kib(total)} minified in ${code.length} files (sourcemaps not counted); loaded at init (the entry and its static imports): ${atInit.join(", ")}`,
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

/** Bytes of an entry and every chunk it imports statically: what its init parses (dynamic imports wait). */
function loadedAtInit(meta: Metafile, entryFile: string): number {
  const outputs = new Map<string, Metafile["outputs"][string]>(
    Object.entries(meta.outputs).map(([path, output]) => [resolve(path), output]),
  );
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of outputs.get(path)?.imports ?? [])
      if (imported.kind === "import-statement" && !imported.external) visit(resolve(imported.path));
  };
  visit(join(outdir, entryFile));
  let bytes = 0;
  seen.forEach((path) => (bytes += outputs.get(path)?.bytes ?? 0));
  return bytes;
}

function artifactFiles(): string[] {
  return readdirSync(outdir)
    .filter((name) => name.endsWith(".mjs") || name.endsWith(".mjs.map"))
    .sort();
}
