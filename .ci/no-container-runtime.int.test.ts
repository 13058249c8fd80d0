import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

// What the test command does where no container runtime is reachable: hides the Docker socket in a
// private mount namespace (root, util-linux `unshare`) and runs vitest there.
const repoRoot = join(import.meta.dirname, "..");
const vitest = join(repoRoot, "node_modules", ".bin", "vitest");

async function withoutDocker(
  env: Record<string, string>,
  args: string[],
): Promise<{ code: number; output: string }> {
  const script = `mount --bind /dev/null /var/run/docker.sock && exec "$0" "$@"`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.DOCKER_HOST;
  delete childEnv.VITEST_RESULTS_FILE;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      "unshare",
      ["-m", "sh", "-c", script, vitest, "run", ...args],
      { cwd: repoRoot, env: childEnv },
    );
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: failed.stdout + failed.stderr };
  }
}

describe("without a container runtime", () => {
  it("skips the integration tests with one line saying why, outside CI", async () => {
    const result = await withoutDocker({ CI: "" }, [
      "--project",
      "unit",
      "packages/domain/src/sha256.unit.test.ts",
    ]);
    expect(result.output).toContain("integration tests skipped: no container runtime reachable");
    expect(result.code).toBe(0);
  });

  it("fails the integration tests with a message saying so, in CI", async () => {
    const result = await withoutDocker({ CI: "true" }, [".ci/dependency-rules.int.test.ts"]);
    expect(result.output).toContain(
      "integration tests need a container runtime (Docker) and none is reachable",
    );
    expect(result.code).not.toBe(0);
  });
});
