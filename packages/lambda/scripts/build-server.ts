// Incremental builds of the functions' bundle for a running `devrunner up` (hot reload), through the
// Makefile's serve-build-<Function> targets: the same artifact as build.ts, rebuilt by one esbuild context
// that keeps what did not change, instead of a new esbuild run per save. One build per line on stdin,
// {"outdir": DIR}; one answer per line on stdout, {"ok": true, "ms": N, "bundleMs": N, "writeMs": N} or
// {"ok": false, "error": TEXT}.
// Ends when stdin ends.
//   node packages/lambda/scripts/build-server.ts --outdir STAGING
// Each build's outdir must be a sibling of STAGING: the source maps' paths are relative to it.
import { linkSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { context, formatMessages, type Message } from "esbuild";
import { bundleOptions } from "./bundle-options.ts";

const packageDir = resolve(import.meta.dirname, "..");
// Output paths are computed against this folder and written under each build's own outdir.
const staging = resolve(
  parseArgs({ options: { outdir: { type: "string", default: "dist/build-server" } } }).values.outdir,
);
const esbuild = await context({ ...bundleOptions(packageDir, staging), write: false, logLevel: "silent" });
// The first build parses everything: done now, so the first save is as fast as the next.
const warm = esbuild.rebuild().catch(() => undefined);

// The last build's files: one unchanged since (most chunks, after a save) is a hard link to it, not a
// new copy. Its folder may be gone by now (a replaced build's is removed): then it is written again.
let previous: { outdir: string; files: Map<string, Uint8Array> } | undefined;
const linkUnchanged = (name: string, contents: Uint8Array, target: string): boolean => {
  const before = previous?.files.get(name);
  if (!previous || !before || !Buffer.from(before).equals(contents)) return false;
  try {
    linkSync(join(previous.outdir, name), target);
    return true;
  } catch {
    return false;
  }
};

const answer = (value: Record<string, unknown>): void =>
  void process.stdout.write(`${JSON.stringify(value)}\n`);

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const started = performance.now();
  try {
    const { outdir } = JSON.parse(line) as { outdir: string };
    await warm;
    const { outputFiles = [] } = await esbuild.rebuild();
    const bundled = performance.now();
    const written = new Map<string, Uint8Array>();
    for (const file of outputFiles) {
      const name = relative(staging, file.path);
      const target = join(outdir, name);
      mkdirSync(dirname(target), { recursive: true });
      written.set(name, file.contents);
      if (!linkUnchanged(name, file.contents, target)) writeFileSync(target, file.contents);
    }
    previous = { outdir, files: written };
    const now = performance.now();
    answer({
      ok: true,
      ms: Math.round(now - started),
      bundleMs: Math.round(bundled - started),
      writeMs: Math.round(now - bundled),
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    const text = errors
      ? (await formatMessages(errors, { kind: "error" })).join("")
      : (error as Error).message;
    answer({ ok: false, error: text });
  }
}
await esbuild.dispose();
