import { createEntityService, type EntityService, type OutboxPolicy } from "@entity/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../memory/clocks.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";
import type { EntityRepositoryHarness } from "./entity-repository.contract.ts";

const POLICY: OutboxPolicy = { maxAttempts: 3, retryDelayMs: 1000, maxRetryDelayMs: 60_000, leaseMs: 30_000 };

/**
 * The outbox semantics every adapter must honour, through the domain's delivery use cases: delivery right
 * after the commit, retries with backoff, parking (an event that can never be published never blocks the
 * others), ordered delivery for FIFO messaging, redrive, and two relays at once.
 */
export function testOutboxContract(
  adapterName: string,
  createHarness: () => Promise<EntityRepositoryHarness>,
): void {
  describe(`outbox contract: ${adapterName}`, () => {
    let harness: EntityRepositoryHarness;
    let publisher: InMemoryEventPublisher;
    let clock: ManualClock;
    let service: EntityService;

    const wire = (ordered: boolean): void => {
      publisher = new InMemoryEventPublisher({ ordered });
      service = createEntityService({
        repository: harness.repository,
        outbox: harness.outbox,
        publisher,
        clock,
        outboxPolicy: POLICY,
      });
    };
    const keys = (prefix: string, count: number): string[] =>
      Array.from({ length: count }, (_, i) => `${prefix}_${i}_20220101T000000`);
    const process = (list: readonly string[]) =>
      service.processEntities(list.map((key, i) => ({ key, messageId: `${key}-${i}` })));

    beforeEach(async () => {
      harness = await createHarness();
      clock = new ManualClock(new Date("2026-03-01T12:00:00.000Z"));
      wire(false);
    });
    afterEach(async () => {
      await harness.close();
    });

    it("delivers a batch's events straight after its commit and marks them published", async () => {
      const results = await process(keys("DELIVERED", 3));
      const delivery = await service.deliverEvents(results);
      expect(delivery.published).toHaveLength(3);
      expect(publisher.published.map((event) => event.key)).toEqual(keys("DELIVERED", 3));
      expect(await harness.outbox.pendingCount()).toBe(0);
      expect((await service.relayOutbox()).published).toEqual([]);
    });

    it("gives a redelivered key its still-pending event, and none once that is published", async () => {
      const [first] = await process(["STRANDED_20220101T000000"]);
      publisher.failNext(1);
      const failed = await service.deliverEvents([first!]);
      expect(failed.error?.retryable).toBe(true);
      expect(failed.published).toEqual([]);
      const [redelivered] = await service.processEntities([
        { key: "STRANDED_20220101T000000", messageId: "again" },
      ]);
      expect(redelivered).toMatchObject({ outcome: "duplicate", event: { key: "STRANDED_20220101T000000" } });
      expect((await service.deliverEvents([redelivered!])).published).toHaveLength(1);
      const [third] = await service.processEntities([
        { key: "STRANDED_20220101T000000", messageId: "third" },
      ]);
      expect(third).toMatchObject({ outcome: "duplicate" });
      expect(third && "event" in third ? third.event : undefined).toBeUndefined();
    });

    it("retries a failed event after its backoff, not before, and publishes it once the queue recovers", async () => {
      await process(["RETRIED_20220101T000000", "OTHER_20220101T000000"]);
      publisher.failNext(1);
      const outage = await service.relayOutbox();
      expect(outage.error?.retryable).toBe(true);
      expect(await harness.outbox.pendingCount()).toBe(2);
      expect((await service.relayOutbox()).published).toEqual([]);
      clock.advance(POLICY.retryDelayMs);
      expect((await service.relayOutbox()).published).toHaveLength(2);
      expect(await harness.outbox.pendingCount()).toBe(0);
    });

    it("parks an event after its last attempt, with the reason, and keeps relaying the others", async () => {
      await process(["DOOMED_20220101T000000", ...keys("FINE", 2)]);
      publisher.rejectEvents((event) => event.entityName === "DOOMED");
      const parked = [];
      for (let attempt = 1; attempt <= POLICY.maxAttempts; attempt += 1) {
        const run = await service.relayOutbox();
        parked.push(...run.parked);
        clock.advance(POLICY.maxRetryDelayMs);
      }
      expect(parked).toEqual([
        expect.objectContaining({
          entityName: "DOOMED",
          attempts: POLICY.maxAttempts,
          reason: "in-memory publisher: injected rejection",
        }),
      ]);
      expect(publisher.published.map((event) => event.entityName)).toEqual(["FINE_0", "FINE_1"]);
      expect(await harness.outbox.pendingCount()).toBe(0);
      const listed = await service.listOutbox();
      expect(listed).toEqual([
        expect.objectContaining({
          state: "parked",
          attempts: POLICY.maxAttempts,
          lastError: expect.any(String) as string,
        }),
      ]);
    });

    it("parks a permanently rejected event at once; 600 of them ahead of good events block nothing", async () => {
      await process(keys("REFUSED", 600));
      await process(keys("GOOD", 5));
      publisher.rejectEvents((event) => event.entityName.startsWith("REFUSED"), { retryable: false });
      const run = await service.relayOutbox({ batchSize: 500 });
      expect(run.parked).toHaveLength(600);
      expect(run.published).toHaveLength(5);
      expect(publisher.published.map((event) => event.key)).toEqual(keys("GOOD", 5));
      expect(await harness.outbox.pendingCount()).toBe(0);
    });

    it("lets failing events wait out their backoff while the events behind them go out", async () => {
      await process(keys("THROTTLED", 600));
      await process(keys("GOOD", 5));
      publisher.rejectEvents((event) => event.entityName.startsWith("THROTTLED"));
      const run = await service.relayOutbox({ batchSize: 500 });
      expect(run.parked).toEqual([]);
      expect(run.published).toHaveLength(5);
      expect(await harness.outbox.pendingCount()).toBe(600);
    });

    it("redrives parked events (all, or the ones named), and the next relay publishes them", async () => {
      await process(keys("PARKED", 3));
      publisher.rejectEvents(() => true, { retryable: false });
      const parked = (await service.relayOutbox()).parked.map((event) => event.eventId);
      expect(parked).toHaveLength(3);
      publisher.rejectEvents(undefined);
      expect(await service.redriveOutbox([parked[1]!])).toEqual([parked[1]]);
      expect((await service.relayOutbox()).published).toEqual([parked[1]]);
      expect([...(await service.redriveOutbox())].sort()).toEqual([parked[0], parked[2]].sort());
      expect((await service.relayOutbox()).published).toHaveLength(2);
      expect(await service.listOutbox()).toEqual([]);
    });

    it("relays in commit order across rounds smaller than the backlog", async () => {
      const list = keys("ORDERED", 7);
      for (const key of list) await service.processEntity(key, { messageId: key });
      const relay = await service.relayOutbox({ batchSize: 3 });
      expect(relay.published).toHaveLength(7);
      expect(publisher.published.map((event) => event.key)).toEqual(list);
    });

    it("never publishes an event twice when two relays run at once", async () => {
      const list = keys("RELAYED", 30);
      await process(list);
      const second = createEntityService({
        repository: harness.secondRepository ?? harness.repository,
        outbox: harness.secondOutbox ?? harness.outbox,
        publisher,
        clock,
        outboxPolicy: POLICY,
      });
      await Promise.all([service.relayOutbox({ batchSize: 4 }), second.relayOutbox({ batchSize: 4 })]);
      expect(publisher.published.map((event) => event.key).sort()).toEqual([...list].sort());
      expect(await harness.outbox.pendingCount()).toBe(0);
    });

    describe("ordered (FIFO) messaging", () => {
      beforeEach(() => wire(true));
      const stamps = (name: string, count: number): string[] =>
        Array.from({ length: count }, (_, i) => `${name}_202201${String(i + 1).padStart(2, "0")}T000000`);

      it("never lets an entity's event overtake an earlier one that failed", async () => {
        const [first] = await process(stamps("SEQUENCED", 1));
        publisher.failNext(1);
        await service.deliverEvents([first!]);
        const [second] = await service.processEntities([{ key: stamps("SEQUENCED", 2)[1]!, messageId: "2" }]);
        const blocked = await service.deliverEvents([second!]);
        expect(blocked.published).toEqual([]);
        expect(publisher.published).toEqual([]);
        clock.advance(POLICY.retryDelayMs);
        await service.relayOutbox();
        await service.relayOutbox();
        expect(publisher.published.map((event) => event.key)).toEqual(stamps("SEQUENCED", 2));
      });

      it("delivers a batch's several events of one entity in order, one per round", async () => {
        const results = await process(stamps("ROUNDS", 3));
        const delivery = await service.deliverEvents(results);
        expect(delivery.published).toHaveLength(3);
        expect(publisher.published.map((event) => event.key)).toEqual(stamps("ROUNDS", 3));
      });

      it("parks an entity's later events with its parked one; other entities go on", async () => {
        await process([...stamps("STUCK", 2), "FREE_20220101T000000"]);
        publisher.rejectEvents((event) => event.key === stamps("STUCK", 1)[0], { retryable: false });
        const run = await service.relayOutbox();
        expect(run.parked.map((event) => event.entityName)).toEqual(["STUCK", "STUCK"]);
        expect(publisher.published.map((event) => event.key)).toEqual(["FREE_20220101T000000"]);
        const [later] = await service.processEntities([{ key: "STUCK_20220301T000000", messageId: "late" }]);
        const delivery = await service.deliverEvents([later!]);
        expect(delivery.parked.map((event) => event.eventId)).toEqual([
          later && "event" in later ? later.event?.eventId : "",
        ]);
        publisher.rejectEvents(undefined);
        await service.redriveOutbox();
        for (let round = 0; round < 3; round += 1) await service.relayOutbox();
        expect(publisher.published.map((event) => event.key)).toEqual([
          "FREE_20220101T000000",
          ...stamps("STUCK", 2),
          "STUCK_20220301T000000",
        ]);
      });
    });
  });
}
