import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const repoRoot = resolve(import.meta.dirname, "../../..");
const scratch = mkdtempSync(join(tmpdir(), "cached-build-"));

/** What `sam build` runs for each function (BuildMethod: makefile), with this test's own cache folder. */
async function samMakeTarget(target: string, artifactsDir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    "make",
    [target, `ARTIFACTS_DIR=${artifactsDir}`, `BUILD_FLAGS=--cache ${join(scratch, "cache")}`],
    { cwd: repoRoot },
  );
  return stdout;
}

const artifacts = (dir: string): string[] =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".mjs"))
    .sort();

describe("the Makefile's build targets (what sam build runs)", () => {
  it("bundle once per change of the inputs: a repeated build (or the next function's) is a copy", async () => {
    const first = join(scratch, "EntityFunction");
    const second = join(scratch, "MigrationFunction");
    expect(await samMakeTarget("build-EntityFunction", first)).toMatch(
      /^bundle built \(inputs [0-9a-f]{12}\)/m,
    );
    const again = await samMakeTarget("build-MigrationFunction", second);
    expect(again).toMatch(/^bundle unchanged \(inputs [0-9a-f]{12}\): copied from /m);
    expect(again).not.toMatch(/bundle built/);
    expect(artifacts(first)).toContain("index.mjs");
    expect(artifacts(second)).toEqual(artifacts(first));
    expect(existsSync(join(second, "index.mjs.map"))).toBe(true);
  });

  it("leaves no stale chunk of an earlier build in the artifacts folder", async () => {
    const dir = join(scratch, "reused");
    await samMakeTarget("build-EntityFunction", dir);
    writeFileSync(join(dir, "chunk-STALE.mjs"), "");
    await samMakeTarget("build-EntityFunction", dir);
    expect(artifacts(dir)).not.toContain("chunk-STALE.mjs");
  });
});
