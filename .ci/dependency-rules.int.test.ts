import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

// Proves the lint step's dependency rules fail when broken: a scratch tree that breaks each rule
// once is cruised with the repository's own config and the same CLI `pnpm lint` runs.
const repoRoot = join(import.meta.dirname, "..");
const scratch = mkdtempSync(join(tmpdir(), "dep-rules-"));

function write(path: string, text: string): void {
  mkdirSync(dirname(join(scratch, path)), { recursive: true });
  writeFileSync(join(scratch, path), text);
}

async function cruise(): Promise<{ exitCode: number; output: string }> {
  const bin = join(repoRoot, "node_modules", ".bin", "depcruise");
  try {
    const { stdout } = await promisify(execFile)(bin, ["packages", "--config", ".dependency-cruiser.cjs"], {
      cwd: scratch,
    });
    return { exitCode: 0, output: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { exitCode: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe("dependency rules (pnpm lint:deps)", () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("pass on a tree that respects them", async () => {
    cpSync(join(repoRoot, ".dependency-cruiser.cjs"), join(scratch, ".dependency-cruiser.cjs"));
    cpSync(join(repoRoot, "tsconfig.base.json"), join(scratch, "tsconfig.base.json"));
    write("packages/domain/src/key.ts", "export const key = 1;\n");
    write("packages/domain/src/index.ts", 'export { key } from "./key.ts";\n');
    write(
      "packages/adapters/src/index.ts",
      'import { key } from "../../domain/src/index.ts";\nexport const a = key;\n',
    );
    write(
      "packages/lambda/src/index.ts",
      'import { a } from "../../adapters/src/index.ts";\nexport const l = a;\n',
    );
    write(
      "packages/devrunner/src/index.ts",
      'import { a } from "../../adapters/src/index.ts";\nexport const d = a;\n',
    );
    const result = await cruise();
    expect(result.output).toContain("no dependency violations");
    expect(result.exitCode).toBe(0);
  });

  it("fail, naming each rule, when the tree breaks them", async () => {
    write(
      "packages/domain/src/io.ts",
      'import { readFileSync } from "node:fs";\nexport const r = readFileSync;\n',
    );
    write(
      "packages/domain/src/sql.ts",
      'import { a } from "../../adapters/src/index.ts";\nexport const s = a;\n',
    );
    write(
      "packages/adapters/src/root.ts",
      'import { l } from "../../lambda/src/index.ts";\nexport const x = l;\n',
    );
    write(
      "packages/lambda/src/dev.ts",
      'import { d } from "../../devrunner/src/index.ts";\nexport const y = d;\n',
    );
    write("packages/lambda/src/testing/fuzz.ts", "export const f = 1;\n");
    write("packages/lambda/src/handler.ts", 'import { f } from "./testing/fuzz.ts";\nexport const h = f;\n');
    write(
      "packages/devrunner/src/fn.ts",
      'import { l } from "../../lambda/src/index.ts";\nexport const z = l;\n',
    );
    write("packages/adapters/src/testing/harness.ts", "export const harness = 1;\n");
    write(
      "packages/devrunner/src/cmd.ts",
      'import { harness } from "../../adapters/src/testing/harness.ts";\nexport const c = harness;\n',
    );
    write(
      "packages/devrunner/package.json",
      JSON.stringify({ name: "devrunner", devDependencies: { "dev-only": "1.0.0" } }),
    );
    write(
      "packages/devrunner/node_modules/dev-only/package.json",
      JSON.stringify({ name: "dev-only", main: "index.js" }),
    );
    write("packages/devrunner/node_modules/dev-only/index.js", "exports.v = 1;\n");
    write("packages/devrunner/src/uses-dev.ts", 'import { v } from "dev-only";\nexport const u = v;\n');
    write("packages/devrunner/src/cli/output.ts", "export const o = 1;\n");
    write(
      "packages/devrunner/src/local-aws/flow.ts",
      'import { o } from "../cli/output.ts";\nexport const f = o;\n',
    );
    const result = await cruise();
    expect(result.exitCode).not.toBe(0);
    for (const rule of [
      "domain-is-pure",
      "domain-has-no-builtins",
      "adapters-not-to-roots",
      "lambda-not-to-devrunner",
      "lambda-bundle-has-no-test-support",
      "devrunner-not-to-lambda",
      "production-has-no-test-support",
      "production-has-no-dev-dependencies",
      "local-aws-core-stands-alone",
    ]) {
      expect(result.output).toContain(rule);
    }
  });
});
