import { join, resolve } from "node:path";
import { createTestDatabase } from "@entity/adapters/testing";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import { runSoak } from "./soak/soak.ts";

describe("soak, CI-sized: the local flow with 5 % transient database faults", () => {
  it("loses nothing, doubles nothing, publishes every committed event and dead-letters exactly the poison keys", async () => {
    const database = await createTestDatabase("soak");
    process.env.DEVRUNNER_BUILD_DIR ??= join(mkdtempSync(join(tmpdir(), "soak-")), "build");
    const report = await runSoak({
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
      timeoutSeconds: 150,
      progress: () => undefined,
    });
    console.log(
      `soak: ${report.published} messages, ${report.distinctKeys} keys, ${report.poisonKeys} poison, ${report.faultsInjected} faults, ${report.failedRecords} records retried, ${report.messagesPerSecond.toFixed(0)} msg/s`,
    );
    expect(report.problems).toEqual([]);
    expect(report.faultsInjected).toBeGreaterThan(0);
    expect(report.failedRecords).toBeGreaterThan(0);
    expect(report.counts.observations).toBe(report.distinctKeys);
    // Exactly the poison keys (checked as a set in `problems`); a key may sit there twice, because with the
    // soak's 1 s visibility timeout a slow batch's message can be received again: at-least-once delivery.
    expect(report.counts.deadLettered).toBeGreaterThanOrEqual(report.poisonKeys);
    expect(report.ok).toBe(true);
  }, 180_000);
});
