import {
  PermanentPortError,
  createEntityService,
  type EntityRepository,
  type EntityService,
  type Outbox,
  type ProcessResult,
} from "@entity/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../memory/clocks.ts";
import { InMemoryEventPublisher } from "../memory/in-memory-event-publisher.ts";

export interface EntityRepositoryHarness {
  readonly repository: EntityRepository;
  readonly outbox: Outbox;
  /** A second, independent connection to the same store, to prove concurrent writers are serialised. */
  readonly secondRepository?: EntityRepository;
  /** The outbox over that second connection, to prove two relays never take the same event. */
  readonly secondOutbox?: Outbox;
  close(): Promise<void>;
}

const A1 = "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249";
const A2 = "MY_CRYPTIC_ENTITY_XXX_YYY_20220609T000000";
const A0 = "MY_CRYPTIC_ENTITY_XXX_YYY_20220607T235959";
const B1 = "OTHER_ENTITY_20220608T043249";

function outcomes(results: readonly ProcessResult[]): string[] {
  return results.map((result) => result.outcome);
}

/**
 * The repository and outbox semantics every adapter must honour, exercised through the domain's use
 * cases: each outcome, out-of-order arrival, concurrent writers, rollback and the outbox invariant.
 */
export function testEntityRepositoryContract(
  adapterName: string,
  createHarness: () => Promise<EntityRepositoryHarness>,
): void {
  describe(`entity repository contract: ${adapterName}`, () => {
    let harness: EntityRepositoryHarness;
    let publisher: InMemoryEventPublisher;
    let clock: ManualClock;
    let service: EntityService;
    let messages = 0;
    const nextMessageId = (): string => `message-${(messages += 1)}`;

    beforeEach(async () => {
      harness = await createHarness();
      publisher = new InMemoryEventPublisher();
      clock = new ManualClock(new Date("2026-03-01T12:00:00.000Z"));
      service = createEntityService({
        repository: harness.repository,
        outbox: harness.outbox,
        publisher,
        clock,
      });
    });
    afterEach(async () => {
      await harness.close();
    });

    it("creates an entity on the first observation of its name and puts entity.created in the outbox", async () => {
      const result = await service.processEntity(A1, { messageId: "m-1" });
      expect(result.outcome).toBe("created");
      const view = await service.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY");
      expect(view?.state).toMatchObject({
        name: "MY_CRYPTIC_ENTITY_XXX_YYY",
        latestKey: A1,
        observationCount: 1,
      });
      expect(view?.state.latestObservedAt.toISOString()).toBe("2022-06-08T04:32:49.000Z");
      expect(view?.state.firstSeenAt.toISOString()).toBe("2026-03-01T12:00:00.000Z");
      expect(view?.recentObservations).toEqual([
        expect.objectContaining({ key: A1, messageId: "m-1", outcome: "created" }),
      ]);
      expect(await harness.outbox.pendingCount()).toBe(1);
      expect(publisher.published).toEqual([]);

      const relay = await service.relayOutbox();
      expect(relay.published).toHaveLength(1);
      expect(publisher.published).toEqual([
        expect.objectContaining({
          type: "entity.created",
          key: A1,
          entityName: "MY_CRYPTIC_ENTITY_XXX_YYY",
          messageId: "m-1",
        }),
      ]);
      expect(publisher.published[0]?.eventId).toBe(result.outcome === "created" ? result.event?.eventId : "");
      expect(await harness.outbox.pendingCount()).toBe(0);
    });

    it("updates on a newer stamp: the current state advances and entity.updated is emitted", async () => {
      await service.processEntity(A1, { messageId: nextMessageId() });
      clock.advance(1000);
      const result = await service.processEntity(A2, { messageId: nextMessageId() });
      expect(result.outcome).toBe("updated");
      const view = await service.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY");
      expect(view?.state).toMatchObject({ latestKey: A2, observationCount: 2 });
      expect(view?.state.updatedAt.toISOString()).toBe("2026-03-01T12:00:01.000Z");
      expect(view?.state.firstSeenAt.toISOString()).toBe("2026-03-01T12:00:00.000Z");
      await service.relayOutbox();
      expect(publisher.published.map((event) => event.type)).toEqual(["entity.created", "entity.updated"]);
    });

    it("records a late, older stamp as stale without regressing the current state or emitting", async () => {
      await service.processEntity(A1, { messageId: nextMessageId() });
      const result = await service.processEntity(A0, { messageId: "late" });
      expect(result.outcome).toBe("stale");
      const view = await service.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY");
      expect(view?.state).toMatchObject({ latestKey: A1, observationCount: 2 });
      expect(view?.recentObservations.map((observation) => [observation.key, observation.outcome])).toEqual([
        [A1, "created"],
        [A0, "stale"],
      ]);
      expect(await harness.outbox.pendingCount()).toBe(1);
    });

    it("treats a redelivered key as a duplicate: no state change, no observation, no event", async () => {
      await service.processEntity(A1, { messageId: "first" });
      const result = await service.processEntity(`  ${A1} `, { messageId: "redelivered" });
      expect(result.outcome).toBe("duplicate");
      const view = await service.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY");
      expect(view?.state.observationCount).toBe(1);
      expect(view?.recentObservations.map((observation) => observation.messageId)).toEqual(["first"]);
      expect(await harness.outbox.pendingCount()).toBe(1);
    });

    it("rejects an invalid key as a value with its reason and stores nothing", async () => {
      const result = await service.processEntity("MY_ENTITY_20221308T000000", { messageId: "bad" });
      expect(result).toMatchObject({ outcome: "invalid", reason: { code: "INVALID_MONTH" } });
      expect(await service.getEntity("MY_ENTITY")).toBeUndefined();
      expect(await harness.outbox.pendingCount()).toBe(0);
    });

    it("processes a mixed batch in order with one outcome per item", async () => {
      const results = await service.processEntities([
        { key: A1, messageId: "1" },
        { key: A2, messageId: "2" },
        { key: A1, messageId: "3" },
        { key: B1, messageId: "4" },
        { key: "not a key", messageId: "5" },
        { key: A0, messageId: "6" },
      ]);
      expect(outcomes(results)).toEqual(["created", "updated", "duplicate", "created", "invalid", "stale"]);
      expect(results.map((result) => result.messageId)).toEqual(["1", "2", "3", "4", "5", "6"]);
      expect((await service.getEntity("MY_CRYPTIC_ENTITY_XXX_YYY"))?.state).toMatchObject({
        latestKey: A2,
        observationCount: 3,
      });
      expect(await harness.outbox.pendingCount()).toBe(3);
    });

    it("reaches the same current state whatever the arrival order, with redeliveries", async () => {
      const stamps = ["20220101T000000", "20220102T000000", "20220103T000000", "20220104T000000"];
      const inOrder = stamps.map((stamp) => `IN_ORDER_${stamp}`);
      const shuffled = [stamps[2], stamps[0], stamps[3], stamps[0], stamps[1], stamps[3]].map(
        (stamp) => `SHUFFLED_${stamp}`,
      );
      for (const key of inOrder) await service.processEntity(key, { messageId: nextMessageId() });
      for (const key of shuffled) await service.processEntity(key, { messageId: nextMessageId() });
      const ordered = (await service.getEntity("IN_ORDER"))?.state;
      const unordered = (await service.getEntity("SHUFFLED"))?.state;
      expect(unordered?.latestObservedAt).toEqual(ordered?.latestObservedAt);
      expect(unordered?.observationCount).toBe(ordered?.observationCount);
      expect(unordered?.latestKey.replace("SHUFFLED", "IN_ORDER")).toBe(ordered?.latestKey);
    });

    it("loses no update when two writers process the same name at once", async () => {
      const writers = 6;
      const perWriter = 5;
      const second = harness.secondRepository ?? harness.repository;
      const services = [harness.repository, second].map((repository) =>
        createEntityService({ repository, outbox: harness.outbox, publisher, clock }),
      );
      const runs = Array.from({ length: writers }, (_, writer) =>
        services[writer % 2]!.processEntities(
          Array.from({ length: perWriter }, (_, i) => {
            const day = String(1 + writer * perWriter + i).padStart(2, "0");
            return { key: `RACED_NAME_202201${day}T000000`, messageId: `w${writer}-${i}` };
          }),
        ),
      );
      const results = (await Promise.all(runs)).flat();
      expect(results.filter((result) => result.outcome === "failed")).toEqual([]);
      expect(results.filter((result) => result.outcome === "created")).toHaveLength(1);
      const state = (await service.getEntity("RACED_NAME"))?.state;
      expect(state?.observationCount).toBe(writers * perWriter);
      expect(state?.latestKey).toBe(
        `RACED_NAME_202201${String(writers * perWriter).padStart(2, "0")}T000000`,
      );
      const emitted = results.filter(
        (result) => result.outcome === "created" || result.outcome === "updated",
      );
      expect(await harness.outbox.pendingCount()).toBe(emitted.length);
    });

    it("rolls back every write of a unit of work that fails, outbox included", async () => {
      await service.processEntity(A1, { messageId: nextMessageId() });
      const failure = new PermanentPortError("boom");
      await expect(
        harness.repository.unitOfWork(async (unit) => {
          const loaded = await unit.load(
            ["MY_CRYPTIC_ENTITY_XXX_YYY", "ROLLED_BACK"],
            [A1, "ROLLED_BACK_20220101T000000"],
          );
          expect([...loaded.states.keys()]).toEqual(["MY_CRYPTIC_ENTITY_XXX_YYY"]);
          expect([...loaded.observedKeys]).toEqual([A1]);
          expect(loaded.pendingEvents.map((event) => event.key)).toEqual([A1]);
          await unit.save({
            states: [
              {
                name: "ROLLED_BACK",
                latestKey: "ROLLED_BACK_20220101T000000",
                latestObservedAt: new Date("2022-01-01T00:00:00Z"),
                firstSeenAt: clock.now(),
                updatedAt: clock.now(),
                observationCount: 1,
              },
            ],
            observations: [
              {
                key: "ROLLED_BACK_20220101T000000",
                name: "ROLLED_BACK",
                observedAt: new Date("2022-01-01T00:00:00Z"),
                messageId: "x",
                receivedAt: clock.now(),
                outcome: "created",
              },
            ],
            events: [
              {
                eventId: "00000000-0000-8000-8000-000000000001",
                type: "entity.created",
                entityName: "ROLLED_BACK",
                key: "ROLLED_BACK_20220101T000000",
                observedAt: "2022-01-01T00:00:00.000Z",
                occurredAt: clock.now().toISOString(),
                messageId: "x",
              },
            ],
          });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await service.getEntity("ROLLED_BACK")).toBeUndefined();
      expect(await harness.outbox.pendingCount()).toBe(1);
      await service.relayOutbox();
      expect(publisher.published.map((event) => event.entityName)).toEqual(["MY_CRYPTIC_ENTITY_XXX_YYY"]);
      // The rolled-back key was never observed, so it is new, not a duplicate.
      expect((await service.processEntity("ROLLED_BACK_20220101T000000", { messageId: "y" })).outcome).toBe(
        "created",
      );
    });

    it("lists recent observations newest stamp first, up to the limit", async () => {
      for (let day = 1; day <= 5; day += 1) {
        await service.processEntity(`LISTED_2022010${day}T000000`, { messageId: nextMessageId() });
      }
      const view = await service.getEntity("LISTED", { recentObservations: 3 });
      expect(view?.recentObservations.map((observation) => observation.key)).toEqual([
        "LISTED_20220105T000000",
        "LISTED_20220104T000000",
        "LISTED_20220103T000000",
      ]);
      expect(view?.state.observationCount).toBe(5);
    });
  });
}
