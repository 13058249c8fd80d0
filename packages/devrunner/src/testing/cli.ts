import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CLI = join(import.meta.dirname, "..", "cli.ts");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for a test's devrunner: its own build, data and state folders; no database named. */
export function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const scratch = mkdtempSync(join(tmpdir(), "devrunner-"));
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !/^(DB_|DATABASE_URL|ENV$|OUTBOUND_QUEUE_URL|DLQ_URL|AWS_ENDPOINT_URL)/.test(name)
    )
      env[name] = value;
  }
  return {
    ...env,
    DEVRUNNER_DATA_DIR: join(scratch, "pglite"),
    DEVRUNNER_BUILD_DIR: process.env.DEVRUNNER_TEST_BUILD_DIR ?? join(scratch, "build"),
    DEVRUNNER_UP_STATE: join(scratch, "up.json"),
    ...extra,
  };
}

/**
 * Runs `devrunner ARGS` as `pnpm devrunner` does and collects its output. The `--` matters: without it
 * Node itself reads a later `--env-file` argument and exits 9 when the file is missing.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--", CLI, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

/** A long-running devrunner command (up, watch) with its output so far and a way to wait for a line. */
export function startCli(
  args: readonly string[],
  env: Record<string, string>,
): {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  stop: () => Promise<number | null>;
} {
  const child = spawn(process.execPath, ["--", CLI, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    output: () => output,
    waitFor: async (pattern, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${pattern}; output so far:\n${output}`);
        if (child.exitCode !== null)
          throw new Error(`exited (${child.exitCode}) before ${pattern}; output:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGINT");
      }),
  };
}
