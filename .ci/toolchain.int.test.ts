import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const repoRoot = join(import.meta.dirname, "..");

describe("the toolchain's pnpm", () => {
  it("leaves a command's --env-file to the command: node does not take it as its own", async () => {
    // Sourced twice: the second run finds the wrapper in place.
    const script =
      "source .ci/toolchain.sh >/dev/null && source .ci/toolchain.sh >/dev/null && " +
      "pnpm --silent devrunner process --db memory --env-file /nonexistent/dev.env KEY_20220101T000000";
    const result = await promisify(execFile)("bash", ["-c", script], {
      cwd: repoRoot,
      env: { ...process.env, DEVRUNNER_NO_SESSION: "1" },
    }).then(
      ({ stderr }) => ({ code: 0, stderr }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );
    expect(result.stderr).not.toMatch(/^node: /m);
    expect(result.stderr).toContain("devrunner: cannot read env file '/nonexistent/dev.env': no such file");
    expect(result.code).toBe(2);
  });
});
