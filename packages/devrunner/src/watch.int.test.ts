import { rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { isolatedEnv, runCli, startCli } from "./testing/cli.ts";

const domainSource = resolve(import.meta.dirname, "../../domain/src");

describe("devrunner watch", () => {
  it("re-runs process when a source file changes, with the database kept open", async () => {
    const watch = startCli(["watch", "process", "WATCHED_ENTITY_20220608T043249"], isolatedEnv());
    const probe = join(domainSource, `watch-probe-${process.pid}.ts`);
    try {
      await watch.waitFor(/watching packages/, 30_000);
      expect(watch.output()).toMatch(/^created\s+WATCHED_ENTITY_20220608T043249/m);
      writeFileSync(probe, "export const probe = 1;\n");
      await watch.waitFor(
        /── run 2: packages\/domain\/src\/watch-probe-\d+\.ts changed[\s\S]*── run 2 done in \d+ ms \(exit 0\)/,
        15_000,
      );
      // Same embedded database: the second run sees the first run's observation.
      expect(watch.output()).toMatch(/^duplicate\s+WATCHED_ENTITY_20220608T043249/m);
    } finally {
      rmSync(probe, { force: true });
      await watch.stop();
    }
  });

  it.each([
    [["watch", "process", "--bogus", "K_20220608T043249"], /^devrunner: process: Unknown option '--bogus'/m],
    [["watch", "process"], /^devrunner: process: give at least one KEY/m],
  ])("a first run that is bad usage exits 2 as the command itself would: %j", async (args, message) => {
    const result = await runCli(args, isolatedEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/UsageError|\n\s+at /);
  });
});
