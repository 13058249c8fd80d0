import { PermanentPortError, TransientPortError } from "@entity/domain";
import { describe, expect, it } from "vitest";
import { createTestApp } from "./test-app.ts";

describe("createTestApp (the README's example)", () => {
  it("processes a key and publishes entity.created", async () => {
    const app = createTestApp();
    const result = await app.process("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249");
    expect(result.outcome).toBe("created");
    expect(app.publishedEvents()).toEqual([
      expect.objectContaining({ type: "entity.created", entityName: "MY_CRYPTIC_ENTITY_XXX_YYY" }),
    ]);
    expect((await app.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY"))?.state.observationCount).toBe(1);
  });
});

describe("batch isolation", () => {
  it("isolates a record the store refuses permanently; the others commit", async () => {
    const poison = "POISON_20220101T000000";
    const app = createTestApp({
      store: {
        beforeWrite: (write) => {
          if (write.kind === "save" && write.changes.observations.some((o) => o.key === poison)) {
            throw new PermanentPortError("value refused by the store");
          }
        },
      },
    });
    const keys = Array.from({ length: 9 }, (_, i) => `GOOD_${i}_20220101T000000`);
    keys.splice(4, 0, poison);
    const results = await app.processEntities(keys.map((key, i) => ({ key, messageId: `m${i}` })));
    expect(results.map((result) => result.outcome)).toEqual([
      "created",
      "created",
      "created",
      "created",
      "failed",
      "created",
      "created",
      "created",
      "created",
      "created",
    ]);
    const failed = results[4];
    expect(failed?.outcome === "failed" && failed.error).toMatchObject({
      code: "PORT_PERMANENT",
      retryable: false,
    });
    expect(app.store.snapshot().entities).toHaveLength(9);
  });

  it("fails the whole batch, retryable, on a transient error, and writes nothing", async () => {
    let down = true;
    const app = createTestApp({
      store: {
        beforeWrite: () => {
          if (down) throw new TransientPortError("database unreachable");
        },
      },
    });
    const requests = ["A_20220101T000000", "B_20220101T000000", "bad"].map((key, i) => ({
      key,
      messageId: `${i}`,
    }));
    const results = await app.processEntities(requests);
    expect(results.map((result) => result.outcome)).toEqual(["failed", "failed", "invalid"]);
    expect(results.every((result) => result.outcome !== "failed" || result.error.retryable)).toBe(true);
    expect(app.store.snapshot().entities).toEqual([]);
    down = false;
    expect((await app.processEntities(requests)).map((result) => result.outcome)).toEqual([
      "created",
      "created",
      "invalid",
    ]);
  });

  it("wraps an unexpected error from a port as retryable, so the record is not lost", async () => {
    const app = createTestApp({
      store: {
        beforeWrite: () => {
          throw new Error("bug in an adapter");
        },
      },
    });
    const result = await app.processEntity("A_20220101T000000", { messageId: "1" });
    expect(result.outcome === "failed" && result.error).toMatchObject({
      code: "PORT_UNEXPECTED",
      retryable: true,
    });
  });
});

describe("ordered groups and stopping early", () => {
  it("does not take up later items of a group after one fails; other groups go on", async () => {
    const poison = "G_20220102T000000";
    const app = createTestApp({
      store: {
        beforeWrite: (write) => {
          if (write.kind === "save" && write.changes.observations.some((o) => o.key === poison)) {
            throw new PermanentPortError("refused");
          }
        },
      },
    });
    const requests = [
      { key: "G_20220101T000000", messageId: "g1", group: "G" },
      { key: "H_20220101T000000", messageId: "h1", group: "H" },
      { key: poison, messageId: "g2", group: "G" },
      { key: "H_20220102T000000", messageId: "h2", group: "H" },
      { key: "G_20220103T000000", messageId: "g3", group: "G" },
    ];
    const results = await app.processEntities(requests);
    expect(results.map((result) => result.outcome)).toEqual([
      "created",
      "created",
      "failed",
      "updated",
      "failed",
    ]);
    expect(results[4]?.outcome === "failed" && results[4].error.code).toBe("GROUP_BLOCKED");
    expect((await app.getEntity("G"))?.state).toMatchObject({
      latestKey: "G_20220101T000000",
      observationCount: 1,
    });
  });

  it("stops between chunks when told to, failing the rest as retryable and writing nothing for them", async () => {
    const app = createTestApp();
    let checks = 0;
    const requests = Array.from({ length: 5 }, (_, i) => ({
      key: `STOP_${i}_20220101T000000`,
      messageId: `${i}`,
    }));
    const results = await app.processEntities(requests, {
      chunkSize: 2,
      shouldStop: () => (checks += 1) > 1,
    });
    expect(results.map((result) => result.outcome)).toEqual([
      "created",
      "created",
      "failed",
      "failed",
      "failed",
    ]);
    expect(results[2]?.outcome === "failed" && results[2].error).toMatchObject({
      code: "DEADLINE_REACHED",
      retryable: true,
    });
    expect(app.store.snapshot().entities).toHaveLength(2);
  });
});
