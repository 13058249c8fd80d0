import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isolatedEnv, startCli, type CliResult } from "./testing/cli.ts";

const LAUNCHER = join(import.meta.dirname, "..", "bin", "devrunner.mjs");

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

  it("publishes through up's topic and runs process on the embedded database up serves", async () => {
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
    } finally {
      await up.stop();
    }
  });
});
