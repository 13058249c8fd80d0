import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { attachInspector } from "./testing/inspector-client.ts";
import { isolatedEnv, runCli, startCli } from "./testing/cli.ts";

const repoRoot = resolve(import.meta.dirname, "../../..");
const HANDLER_SOURCE = "packages/lambda/src/batch-handler.ts";
// The first statement of every invocation of the SQS batch handler (found by its text, not a line number).
const HANDLER_LINE =
  readFileSync(join(repoRoot, HANDLER_SOURCE), "utf8")
    .split("\n")
    .findIndex((line) => line.includes("logger.addContext(context)")) + 1;
// One build for the file: the first command builds, the next finds it fresh.
const buildDir = join(mkdtempSync(join(tmpdir(), "debugger-")), "build");

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

describe("a debugger on the function (invoke -d, up --inspect)", () => {
  it("invoke -d waits for a debugger, and a breakpoint in the handler's TypeScript source is hit", async () => {
    expect(HANDLER_LINE).toBeGreaterThan(0);
    const port = await freePort();
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const event = join(repoRoot, "events/my_test_entity_a1.json");
    const invoke = startCli(["invoke", "EntityFunction", "-d", String(port), "--event", event], env);
    const exited = new Promise<number | null>((done) => invoke.child.once("exit", done));
    try {
      await invoke.waitFor(
        /debugger: EntityFunction waits for a debugger: attach a debugger to 127\.0\.0\.1:\d+/,
        60_000,
      );
      const inspector = await attachInspector(port);
      try {
        await inspector.breakAt(HANDLER_SOURCE, HANDLER_LINE);
        await inspector.run();
        const pause = await inspector.nextPause();
        expect(pause.source.endsWith(HANDLER_SOURCE)).toBe(true);
        expect(pause.line).toBe(HANDLER_LINE);
        await inspector.resume();
      } finally {
        inspector.close();
      }
      expect(await exited).toBe(0);
      expect(invoke.output()).toMatch(/\{"batchItemFailures":\[\]\}/);
    } finally {
      await invoke.stop();
    }
  });

  it("up --inspect=PORT: attach to the running flow, a published key stops at the breakpoint", async () => {
    const port = await freePort();
    const env = isolatedEnv({ DEVRUNNER_TEST_BUILD_DIR: buildDir });
    const args = ["up", "--port", "0", `--inspect=${port}`, "--parameter-overrides", "MaximumConcurrency=1"];
    const up = startCli(args, env);
    try {
      await up.waitFor(/^ready:/m, 60_000);
      // The environment starts its init (and its inspector) at once, without waiting for a message.
      await up.waitFor(new RegExp(`debugger: EntityFunction: attach a debugger to 127\\.0\\.0\\.1:${port}`));
      const inspector = await attachInspector(port);
      try {
        await inspector.breakAt(HANDLER_SOURCE, HANDLER_LINE);
        await runCli(["publish", "DEBUGGED_ENTITY_20220608T043249"], env);
        const pause = await inspector.nextPause();
        expect(pause.source.endsWith(HANDLER_SOURCE)).toBe(true);
        expect(pause.line).toBe(HANDLER_LINE);
        await inspector.resume();
      } finally {
        inspector.close();
      }
      await up.waitFor(/batch of 1 -> 1 ok, 0 failed[\s\S]*sns: DEBUGGED_ENTITY_20220608T043249/, 30_000);
    } finally {
      expect(await up.stop()).toBe(0);
    }
  });
});
