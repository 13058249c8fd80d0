import { eventIdForKey } from "@entity/domain";
import { describe, expect, it } from "vitest";
import { isUnpublishable, nameOf, seededRandom, soakKeys } from "./keys.ts";
import { FLAKY_FAILED_ATTEMPTS, REFUSAL, TRANSIENT, outboundFaults } from "./publish-faults.ts";

const OUTBOUND_URL = "http://sqs.us-east-1.localhost:4566/000000000000/OutboundEventsQueue";
const entry = (entityName: string, key = `${entityName}_20220101T000000`) => ({
  Id: "e0",
  MessageBody: JSON.stringify({ eventId: eventIdForKey(key), entityName, key }),
});

describe("the soak's keys", () => {
  it("are the same for the same seed, and mark about the given share of names unpublishable", () => {
    const first = soakKeys(20_000, seededRandom(42), 0.005);
    expect(soakKeys(20_000, seededRandom(42), 0.005).published).toEqual(first.published);
    const names = new Set([...first.valid].map(nameOf));
    const marked = [...names].filter(isUnpublishable);
    expect(marked.length).toBeGreaterThanOrEqual(Math.floor(names.size * 0.004));
    expect(marked.length).toBeLessThanOrEqual(Math.ceil(names.size * 0.006));
    expect([...first.poison].every((key) => !first.valid.has(key))).toBe(true);
  });

  it("mark no name with a share of 0", () => {
    const keys = soakKeys(2_000, seededRandom(1), 0);
    expect([...keys.valid].some((key) => isUnpublishable(nameOf(key)))).toBe(false);
  });
});

describe("the outbound queue's faults", () => {
  it("refuse every attempt of an unpublishable entity's event for good", () => {
    const { faultFor } = outboundFaults("OutboundEventsQueue", 0);
    for (let attempt = 0; attempt < 6; attempt += 1)
      expect(faultFor(entry("SOAK_UNPUBLISHABLE_200"), OUTBOUND_URL)).toBe(REFUSAL);
    expect(REFUSAL.senderFault).toBe(true);
  });

  it("fail a flaky event's first attempts transiently, then let it through", () => {
    const { faultFor, isFlaky } = outboundFaults("OutboundEventsQueue", 1);
    const flaky = entry("SOAK_ENTITY_1");
    expect(isFlaky(eventIdForKey("SOAK_ENTITY_1_20220101T000000"))).toBe(true);
    const answers = Array.from({ length: FLAKY_FAILED_ATTEMPTS + 2 }, () => faultFor(flaky, OUTBOUND_URL));
    expect(answers).toEqual([
      ...Array.from({ length: FLAKY_FAILED_ATTEMPTS }, () => TRANSIENT),
      undefined,
      undefined,
    ]);
    expect(TRANSIENT.senderFault).toBe(false);
  });

  it("pick flaky events by their id, about the given share of them", () => {
    const { isFlaky } = outboundFaults("OutboundEventsQueue", 0.01);
    const ids = Array.from({ length: 20_000 }, (_, i) => eventIdForKey(`SOAK_ENTITY_${i}_20220101T000000`));
    const share = ids.filter(isFlaky).length / ids.length;
    expect(share).toBeGreaterThan(0.007);
    expect(share).toBeLessThan(0.013);
  });

  it("leave other queues (the DLQ) and ordinary events alone", () => {
    const { faultFor } = outboundFaults("OutboundEventsQueue", 0);
    expect(
      faultFor(entry("SOAK_UNPUBLISHABLE_200"), OUTBOUND_URL.replace("Outbound", "Dead")),
    ).toBeUndefined();
    expect(faultFor(entry("SOAK_ENTITY_7"), OUTBOUND_URL)).toBeUndefined();
  });
});
