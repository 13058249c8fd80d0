import { describe, expect, it } from "vitest";
import type { DeliveryResult } from "./delivery.ts";
import { deliveryPipeline } from "./delivery-pipeline.ts";
import { parseEntityKey } from "./entity-key.ts";
import { entityEvent } from "./events.ts";
import type { ProcessResult } from "./use-cases.ts";

function created(key: string): ProcessResult {
  const parsed = parseEntityKey(key);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return {
    outcome: "created",
    messageId: `m-${key}`,
    key: parsed.key,
    event: entityEvent("entity.created", parsed.key, `m-${key}`, new Date(0)),
  };
}

describe("deliveryPipeline", () => {
  it("delivers chunks one after the other, in commit order, each event once, and merges the results", async () => {
    const calls: string[][] = [];
    let release: () => void = () => undefined;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    const pipeline = deliveryPipeline(async (results) => {
      const keys = results.map((result) => ("key" in result ? result.key.key : ""));
      calls.push(keys);
      if (calls.length === 1) await firstHeld;
      const ids = results.flatMap((result) =>
        "event" in result && result.event ? [result.event.eventId] : [],
      );
      return { published: ids, failed: [], parked: [] } satisfies DeliveryResult;
    });
    const a = created("A_20220608T043249");
    const b = created("B_20220608T043249");
    pipeline.add([a]);
    pipeline.add([a, b]); // a key redelivered in a later chunk carries the same pending event
    await Promise.resolve();
    expect(calls).toEqual([["A_20220608T043249"]]); // the second waits for the first
    release();
    const done = await pipeline.done();
    expect(calls).toEqual([["A_20220608T043249"], ["B_20220608T043249"]]);
    expect(done.published).toHaveLength(2);
    expect(done.error).toBeUndefined();
  });

  it("turns a delivery that throws into an error result and keeps delivering the later chunks", async () => {
    let call = 0;
    const pipeline = deliveryPipeline((results) => {
      call += 1;
      if (call === 1) return Promise.reject(new Error("queue gone"));
      return Promise.resolve({ published: results.map(() => "x"), failed: [], parked: [] });
    });
    pipeline.add([created("A_20220608T043249")]);
    pipeline.add([created("B_20220608T043249")]);
    const done = await pipeline.done();
    expect(done.published).toEqual(["x"]);
    expect(done.error?.message).toContain("queue gone");
  });
});
