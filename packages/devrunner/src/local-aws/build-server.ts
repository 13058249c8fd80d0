import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { LocalAwsError } from "./errors.ts";

/** A process that rebuilds a build group's artifact on request, faster than a new `make build-<Id>`. */
export interface BuildServer {
  /** False once it has stopped (then builds go through `make build-<Id>` again). */
  readonly running: boolean;
  /** Builds into `outdir`, a sibling of the staging folder it was started with. */
  /** Resolves with the builder's own time (its bundler and writes), without the request's way there. */
  build(outdir: string): Promise<number>;
  close(): void;
}

type Answer = { ok: true; ms?: number } | { ok: false; error: string };

/**
 * The Makefile's `serve-build-<Id>` target, when it has one: a process that keeps its bundler's state
 * between builds (packages/lambda/scripts/build-server.ts here). One JSON line per build on its stdin,
 * {"outdir": DIR}; one answer per line on its stdout, {"ok": true} or {"ok": false, "error": TEXT}.
 * `stagingDir` (its ARTIFACTS_DIR) is where it computes its output paths.
 */
export function startBuildServer(root: string, buildId: string, stagingDir: string): BuildServer | undefined {
  const makefile = join(root, "Makefile");
  const target = `serve-build-${buildId}`;
  if (
    !existsSync(makefile) ||
    !new RegExp(`(^|\\s)${target}(\\s|:)`, "m").test(readFileSync(makefile, "utf8"))
  )
    return undefined;
  const child = spawn("make", ["-s", target, `ARTIFACTS_DIR=${stagingDir}`], {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let running = true;
  let stderr = "";
  const waiting: ((answer: Answer) => void)[] = [];
  const stopped = (): void => {
    running = false;
    for (const answer of waiting.splice(0))
      answer({ ok: false, error: `the build server (make ${target}) stopped${stderr ? `: ${stderr}` : ""}` });
  };
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  child.on("exit", stopped);
  child.on("error", stopped);
  child.stdin.on("error", stopped);
  createInterface({ input: child.stdout }).on("line", (line) => {
    try {
      const answer = JSON.parse(line) as Answer;
      waiting.shift()?.(answer);
    } catch {
      // not an answer: a line the build printed
    }
  });
  return {
    get running() {
      return running;
    },
    build: (outdir) =>
      new Promise((resolve, reject) => {
        if (!running) return reject(new LocalAwsError("BUILD_FAILED", `make ${target} is not running`));
        waiting.push((answer) =>
          answer.ok
            ? resolve(answer.ms ?? NaN)
            : reject(new LocalAwsError("BUILD_FAILED", `building ${buildId} failed:\n${answer.error}`)),
        );
        child.stdin.write(`${JSON.stringify({ outdir })}\n`);
      }),
    // The builder ends when its input does (after the build it is running); make is ended now, so a
    // build still running is answered as failed at once and nothing waits for it.
    close: () => {
      child.stdin.end();
      child.kill();
      // The builder holds these pipes until its build ends: this process does not wait for them.
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
    },
  };
}
