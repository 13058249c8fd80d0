// What the Makefile's build-<Function> targets run: the bundle (build.ts) into --outdir, built only when its
// inputs changed. `sam build --cached` cannot skip makefile builds (aws-sam-cli #2989: it re-runs make
// every time), so the make target keeps its own cache: one finished bundle per content hash of the inputs,
// copied into ARTIFACTS_DIR when it exists.
//   node packages/lambda/scripts/cached-build.ts --outdir DIR [--cache DIR] [--quiet]
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from "node:fs";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";

const root = resolve(import.meta.dirname, "../../..");
const { values } = parseArgs({
  options: {
    outdir: { type: "string" },
    cache: { type: "string", default: join(root, ".aws-sam", "makefile-cache") },
    quiet: { type: "boolean", default: false },
  },
});
if (!values.outdir) throw new Error("cached-build: --outdir DIR is required");
const outdir = resolve(values.outdir);
const cacheDir = resolve(values.cache);

/** What the bundle is made of: the sources it bundles (tests are not), the build script, the lockfile. */
const INPUTS = [
  "packages/domain/src",
  "packages/adapters/src",
  "packages/lambda/src",
  "packages/lambda/scripts",
  "packages/domain/package.json",
  "packages/adapters/package.json",
  "packages/lambda/package.json",
  "pnpm-lock.yaml",
];

const key = inputsHash();
const cached = join(cacheDir, key);
const hit = existsSync(cached);
if (hit) utimesSync(cached, new Date(), new Date());
else buildInto(cached);
// Stale chunks of an earlier build must not ship: remove this build's kind of files, nothing else.
mkdirSync(outdir, { recursive: true });
for (const name of readdirSync(outdir)) if (/\.mjs(\.map)?$/.test(name)) rmSync(join(outdir, name));
cpSync(cached, outdir, { recursive: true });
if (!values.quiet)
  console.log(
    hit
      ? `bundle unchanged (inputs ${key.slice(0, 12)}): copied from ${relative(root, cached)} to ${outdir}`
      : `bundle built (inputs ${key.slice(0, 12)}) and copied to ${outdir}`,
  );
pruneCache(3);

/** Content, not times: a checkout back to known sources is a hit, a `touch` is not a change. */
function inputsHash(): string {
  const hash = createHash("sha256").update(`node ${process.version}\n`);
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort())
        if (entry !== "node_modules" && !entry.startsWith(".")) visit(join(path, entry));
    } else if (!path.endsWith(".test.ts")) {
      hash.update(`${relative(root, path)}\n`).update(readFileSync(path));
    }
  };
  for (const input of INPUTS) visit(join(root, input));
  return hash.digest("hex");
}

/**
 * Builds in a private folder, then renames it into the cache: concurrent builds (parallel test files,
 * `sam build --parallel`) never see a half-written bundle; when two finish, the first rename wins.
 */
function buildInto(target: string): void {
  mkdirSync(cacheDir, { recursive: true });
  const building = mkdtempSync(join(cacheDir, "building-"));
  try {
    execFileSync(
      process.execPath,
      [
        join(import.meta.dirname, "build.ts"),
        "--outdir",
        building,
        "--no-zip",
        ...(values.quiet ? ["--quiet"] : []),
      ],
      { stdio: "inherit" },
    );
    try {
      renameSync(building, target);
    } catch (error) {
      if (!existsSync(target)) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/** Keeps the newest few bundles (switching branches back and forth stays a hit). */
function pruneCache(keep: number): void {
  const bundles = readdirSync(cacheDir)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .map((name) => ({ name, at: statSync(join(cacheDir, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const { name } of bundles.slice(keep)) rmSync(join(cacheDir, name), { recursive: true, force: true });
}
