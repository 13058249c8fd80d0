import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isolatedEnv, startCli, type CliResult } from "./testing/cli.ts";

const LAUNCHER = join(import.meta.dirname, "..", "bin", "devrunner.mjs");
const LINKED_INVOKE = "run by the running session";
const scratch = mkdtempSync(join(tmpdir(), "session-link-"));

/** An SQS event for `key`, as `devrunner event sqs` writes it. */
async function sqsEvent(key: string, env: Record<string, string>): Promise<string> {
  const path = join(scratch, `${key}.json`);
  writeFileSync(path, (await launch(["event", "sqs", key], env)).stdout);
  return path;
}

/** The launcher, where a command is handed to a running session; from the sources when it runs itself. */
function launch(args: readonly string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--", LAUNCHER, ...args], {
      env: { ...env, DEVRUNNER_FROM_SOURCE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("a running session takes linked commands", () => {
  it("runs process in the watch session that holds the embedded database, and declines other targets", async () => {
    const env = isolatedEnv();
    const watch = startCli(["watch", "process", "HELD_20220608T043249"], env);
    try {
      await watch.waitFor(/watching packages/, 30_000);
      const linked = await launch(["process", "LINKED_20220608T043249", "HELD_20220608T043249"], env);
      expect(linked.stderr).toContain("held by the running session");
      expect(linked.stdout).toMatch(/^created\s+LINKED_20220608T043249/m);
      // The session's database: the key the watch run processed is already there.
      expect(linked.stdout).toMatch(/^duplicate\s+HELD_20220608T043249/m);
      expect(linked.code).toBe(0);

      const invalid = await launch(["process", "not a key"], env);
      expect(invalid.stdout).toMatch(/^invalid/m);
      expect(invalid.code).toBe(1);

      // A command line the command refuses runs in its own process, which says so (exit 2).
      const badUsage = await launch(["process", "--no-such-flag", "KEY_20220608T043249"], env);
      expect(badUsage.stderr).not.toContain("held by the running session");
      expect(badUsage.code).toBe(2);

      const elsewhere = await launch(["process", "--db", "memory", "MEMORY_20220608T043249"], env);
      expect(elsewhere.stderr).not.toContain("held by the running session");
      expect(elsewhere.stdout).toMatch(/^created\s+MEMORY_20220608T043249/m);
    } finally {
      await watch.stop();
    }
    // No session any more: the command opens the folder itself and finds what the session wrote.
    const alone = await launch(["process", "LINKED_20220608T043249"], env);
    expect(alone.stderr).not.toContain("held by the running session");
    expect(alone.stdout).toMatch(/^duplicate\s+LINKED_20220608T043249/m);
  });

  it("publishes through up's topic, runs process on the embedded database up serves, and invokes its function", async () => {
    const env = isolatedEnv();
    const up = startCli(["up", "--port", "0", "--parameter-overrides", "MaximumConcurrency=1"], env);
    try {
      await up.waitFor(/^ready:/m, 90_000);
      const published = await launch(["publish", "UP_LINKED_20220608T043249"], env);
      expect(published.stdout).toMatch(/^published [0-9a-f-]+ UP_LINKED_20220608T043249/);
      await up.waitFor(/ok\s+\S+ sns: UP_LINKED_20220608T043249/, 30_000);
      // The function wrote the key into the database up serves; process sees it there.
      const processed = await launch(["process", "UP_LINKED_20220608T043249"], env);
      expect(processed.stderr).toContain("held by the running session");
      expect(processed.stdout).toMatch(/^duplicate\s+UP_LINKED_20220608T043249/m);

      // invoke: up's function, build, database and queues, in a warm environment of the session.
      const event = await sqsEvent("UP_INVOKED_20220608T043249", env);
      const invoked = await launch(["invoke", "--event", event], env);
      expect(invoked.stderr).toContain(LINKED_INVOKE);
      expect(invoked.stderr).toMatch(/REPORT RequestId: [0-9a-f-]{36}\tDuration: /);
      expect(invoked.stdout).toBe('{"batchItemFailures":[]}\n');
      expect(invoked.code).toBe(0);
      const written = await launch(["process", "UP_INVOKED_20220608T043249"], env);
      expect(written.stdout).toMatch(/^duplicate\s+UP_INVOKED_20220608T043249/m);

      // Another database: the command runs itself, with the same output and exit code.
      const again = await sqsEvent("OWN_INVOKED_20220608T043249", env);
      const own = await launch(["invoke", "--event", again, "--data-dir", join(scratch, "own")], env);
      expect(own.stderr).not.toContain(LINKED_INVOKE);
      expect(own.stderr).toMatch(/database: embedded PGlite/);
      expect(own.stdout).toBe('{"batchItemFailures":[]}\n');
      expect(own.code).toBe(0);
      // What the command refuses (a missing event file) it says itself, with its exit code.
      const missing = await launch(["invoke", "--event", join(scratch, "none.json")], env);
      expect(missing.stderr).not.toContain(LINKED_INVOKE);
      expect(missing.stderr).toMatch(/none\.json/);
      expect(missing.code).toBe(2);
    } finally {
      await up.stop();
    }
  });

  it("invokes through a watch invoke session, on the build it migrated for", async () => {
    const env = isolatedEnv();
    const event = await sqsEvent("WATCHED_INVOKE_20220608T043249", env);
    const watch = startCli(["watch", "invoke", "--event", event], env);
    try {
      await watch.waitFor(/watching packages/, 60_000);
      const linked = await launch(
        ["invoke", "--event", await sqsEvent("LINKED_INVOKE_20220608T043249", env)],
        env,
      );
      expect(linked.stderr).toContain(LINKED_INVOKE);
      expect(linked.stdout).toBe('{"batchItemFailures":[]}\n');
      expect(linked.code).toBe(0);
      // --json as the command prints it: one document with the response and the report.
      const json = await launch(["invoke", "--json", "--event", event], env);
      expect(json.stderr).toContain(LINKED_INVOKE);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: "ok", response: { batchItemFailures: [] } });
    } finally {
      await watch.stop();
    }
  });
});
