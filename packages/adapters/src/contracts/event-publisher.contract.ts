import { entityEvent, parseEntityKey, type EntityEvent, type EventPublisher } from "@entity/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

export interface EventPublisherHarness {
  readonly publisher: EventPublisher;
  /** Everything the consumer side has received so far (waits briefly for in-flight deliveries). */
  received(expectedCount: number): Promise<readonly EntityEvent[]>;
  close(): Promise<void>;
}

export function sampleEvents(count: number, prefix = "PUBLISHED"): EntityEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const parsed = parseEntityKey(`${prefix}_${i}_20220608T043249`);
    if (!parsed.ok) throw new Error(parsed.error.message);
    return entityEvent(
      i % 2 === 0 ? "entity.created" : "entity.updated",
      parsed.key,
      `message-${i}`,
      new Date(),
    );
  });
}

/** What every messaging adapter must do: deliver each event whole, report what it sent. */
export function testEventPublisherContract(
  adapterName: string,
  createHarness: () => Promise<EventPublisherHarness>,
): void {
  describe(`event publisher contract: ${adapterName}`, () => {
    let harness: EventPublisherHarness;
    beforeEach(async () => {
      harness = await createHarness();
    });
    afterEach(async () => {
      await harness.close();
    });

    it("delivers an event with its id, type and payload intact", async () => {
      const [event] = sampleEvents(1);
      const result = await harness.publisher.publish([event!]);
      expect(result).toEqual({ published: [event!.eventId], failed: [] });
      expect(await harness.received(1)).toEqual([event]);
    });

    it("delivers more events than one request can carry, each exactly once", async () => {
      const events = sampleEvents(25);
      const result = await harness.publisher.publish(events);
      expect([...result.published].sort()).toEqual(events.map((event) => event.eventId).sort());
      expect(result.failed).toEqual([]);
      const received = await harness.received(25);
      expect(received.map((event) => event.eventId).sort()).toEqual(
        events.map((event) => event.eventId).sort(),
      );
    });

    it("does nothing for an empty list", async () => {
      expect(await harness.publisher.publish([])).toEqual({ published: [], failed: [] });
      expect(await harness.received(0)).toEqual([]);
    });
  });
}
