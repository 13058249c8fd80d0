import { localAwsConfig } from "./local-aws/index.ts";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestDatabase } from "@entity/adapters/testing";
import { describe, expect, it } from "vitest";
import { formatSoakReport } from "./soak/report.ts";
import { runSoak } from "./soak/soak.ts";
import { isolatedEnv, startCli } from "./testing/cli.ts";

describe("soak, CI-sized: the local flow under every fault the soak injects", () => {
  it("loses nothing, doubles nothing, leaves nothing stuck; parks exactly the unpublishable events and dead-letters exactly the poison keys", async () => {
    const database = await createTestDatabase("soak");
    process.env.DEVRUNNER_BUILD_DIR ??= join(mkdtempSync(join(tmpdir(), "soak-")), "build");
    const report = await runSoak({
      config: localAwsConfig(process.env, { repositoryRoot: resolve(import.meta.dirname, "../../..") }),
      messages: 1500,
      faultRate: 0.05,
      database: {
        host: String(database.config.host),
        port: Number(database.config.port),
        user: String(database.config.user),
        password: String(database.config.password),
        database: database.name,
      },
      templatePath: resolve(import.meta.dirname, "../../../template.yaml"),
      dataDir: mkdtempSync(join(tmpdir(), "soak-data-")),
      // Smaller than the full soak's (5 s Timeout, 30 s visibility), so retried records come back soon;
      // still the rule AWS enforces: the visibility timeout is at least the Timeout.
      functionTimeoutSeconds: 3,
      visibilityTimeoutSeconds: 6,
      rotateEverySeconds: 1.5,
      // More of each than the full soak's shares, so 1,500 messages meet them all.
      unpublishableShare: 0.03,
      flakyShare: 0.03,
      schedulePeriodSeconds: 2,
      timeoutSeconds: 150,
      progress: () => undefined,
    });
    console.log(formatSoakReport(report));
    expect(report.problems).toEqual([]);
    // Every fault was met.
    expect(report.faults.databaseCuts).toBeGreaterThan(0);
    expect(report.flow.failedRecords).toBeGreaterThan(0);
    expect(report.faults.rotations).toBeGreaterThan(0);
    // The first fetch, and at least one more after a rotation refused the cached password.
    expect(report.faults.secretFetches).toBeGreaterThanOrEqual(2);
    expect(report.faults.publishRefusals).toBeGreaterThan(0);
    expect(report.faults.transientPublishFailures).toBeGreaterThan(0);
    expect(report.counts.flakyEvents).toBeGreaterThan(0);
    // The end state (each also a `problems` check).
    expect(report.counts.observations).toBe(report.distinctKeys);
    expect(report.counts.unpublishableEvents).toBeGreaterThan(0);
    expect(report.counts.eventsParked).toBe(report.counts.unpublishableEvents);
    expect(report.counts.eventsPublished).toBe(report.counts.events - report.counts.unpublishableEvents);
    expect(report.counts.eventsPending).toBe(0);
    expect(report.counts.queued).toBe(0);
    expect(report.counts.deadLetteredKeys).toBe(report.poisonKeys);
    expect(report.counts.validKeysDeadLettered).toBe(0);
    expect(report.ok).toBe(true);
  }, 180_000);

  it("on Ctrl-C says it stops and removes its Postgres container", async () => {
    const soak = startCli(["soak", "--messages", "300"], isolatedEnv());
    try {
      await soak.waitFor(/soak: Postgres up on [^:\s]+:\d+/, 90_000);
      const port = /Postgres up on [^:\s]+:(\d+)/.exec(soak.output())![1]!;
      const running = (): string =>
        execFileSync("docker", ["ps", "-q", "--filter", `publish=${port}`], { encoding: "utf8" }).trim();
      expect(running()).not.toBe("");
      const code = await soak.stop();
      expect(soak.output()).toMatch(/soak: stopping \(SIGINT\)/);
      expect(soak.output()).toMatch(/soak: removing the Postgres container/);
      expect(code).toBe(130);
      expect(running()).toBe("");
    } finally {
      if (soak.child.exitCode === null) soak.child.kill("SIGKILL");
    }
  });
});
