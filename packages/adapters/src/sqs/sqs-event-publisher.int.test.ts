import type { SQSClient } from "@aws-sdk/client-sqs";
import { DEFAULT_OUTBOX_POLICY, type EntityEvent, type EventPublisher } from "@entity/domain";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratedTestDatabase, testKysely, testServiceOn } from "../testing/test-database.ts";
import { testDeadLetterQueueContract } from "../contracts/dead-letter-queue.contract.ts";
import { sampleEvents, testEventPublisherContract } from "../contracts/event-publisher.contract.ts";
import { ManualClock } from "../memory/clocks.ts";
import { KyselyOutbox } from "../postgres/kysely-outbox.ts";
import { migrateToLatest } from "../postgres/migrate.ts";
import type { EntityDatabase } from "../postgres/schema.ts";
import { startTestFauxqs } from "../testing/fauxqs.ts";
import { createTestDatabase } from "../testing/postgres-test-database.ts";
import {
  EMULATOR_REGION,
  emulatorSqsClient,
  queuedBodies,
  queuedMessages,
  type FauxqsServer,
} from "./emulator.ts";
import { SqsDeadLetterQueue } from "./sqs-dead-letter-queue.ts";
import { SqsEventPublisher, messageGroupId } from "./sqs-event-publisher.ts";

let server: FauxqsServer;
let client: SQSClient;
let queues = 0;

beforeAll(async () => {
  ({ server, client } = await startTestFauxqs());
});
afterAll(async () => {
  await server?.stop();
});

function newQueue(attributes: Record<string, string> = {}, fifo = false): { name: string; url: string } {
  queues += 1;
  const name = `events-${queues}${fifo ? ".fifo" : ""}`;
  const created = server.createQueue(name, {
    attributes: fifo ? { FifoQueue: "true", ...attributes } : attributes,
  });
  return { name, url: created.queueUrl };
}

/** The events now in a queue, parsed. */
const queuedEvents = (on: FauxqsServer, queueName: string): EntityEvent[] =>
  queuedBodies(on, queueName).map((body) => JSON.parse(body) as EntityEvent);

async function waitForBodies(queueName: string, count: number): Promise<EntityEvent[]> {
  const deadline = Date.now() + 2000;
  let bodies = queuedEvents(server, queueName);
  while (bodies.length < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    bodies = queuedEvents(server, queueName);
  }
  return bodies;
}

testEventPublisherContract("SQS (fauxqs)", () => {
  const queue = newQueue();
  return Promise.resolve({
    publisher: new SqsEventPublisher({ queueUrl: queue.url, client: () => client }),
    received: (count) => waitForBodies(queue.name, count),
    close: () => Promise.resolve(),
  });
});

for (const fifo of [false, true]) {
  testDeadLetterQueueContract(`SQS (fauxqs${fifo ? ", FIFO" : ""})`, () => {
    const queue = newQueue({}, fifo);
    return Promise.resolve({
      deadLetters: new SqsDeadLetterQueue({ queueUrl: queue.url, client: () => client }),
      received: async (count) => {
        const deadline = Date.now() + 2000;
        let messages = queuedMessages(server, queue.name);
        while (messages.length < count && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          messages = queuedMessages(server, queue.name);
        }
        return messages.map((message) => ({
          messageId: message.messageAttributes?.originalMessageId?.StringValue ?? "",
          body: message.body,
          reasonCode: message.messageAttributes?.failureCode?.StringValue ?? "",
          reason: message.messageAttributes?.failureReason?.StringValue ?? "",
          ...(message.messageGroupId ? { group: message.messageGroupId } : {}),
        }));
      },
      keepsGroups: fifo,
      close: () => Promise.resolve(),
    });
  });
}

describe("SqsEventPublisher on fauxqs", () => {
  it("sends event type and id as message attributes", async () => {
    const queue = newQueue();
    const [event] = sampleEvents(1);
    await new SqsEventPublisher({ queueUrl: queue.url, client: () => client }).publish([event!]);
    const [message] = queuedMessages(server, queue.name);
    expect(message?.messageAttributes).toMatchObject({
      eventType: { DataType: "String", StringValue: event!.type },
      eventId: { DataType: "String", StringValue: event!.eventId },
    });
  });

  it("on a FIFO queue groups by entity name and deduplicates by event id", async () => {
    const queue = newQueue({}, true);
    const events = sampleEvents(12, "FIFO");
    const publisher = new SqsEventPublisher({ queueUrl: queue.url, client: () => client });
    expect((await publisher.publish(events)).published).toHaveLength(12);
    expect((await publisher.publish(events.slice(0, 5))).published).toHaveLength(5);
    const messages = queuedMessages(server, queue.name);
    expect(messages).toHaveLength(12);
    expect(messages.map((message) => [message.messageGroupId, message.messageDeduplicationId])).toEqual(
      events.map((event) => [event.entityName, event.eventId]),
    );
  });

  it("on a FIFO queue keeps each entity's order when its events span requests, and sends disjoint groups at once", async () => {
    const queue = newQueue({}, true);
    // Three entities, 12 events each, interleaved: every entity's events span the 4 requests.
    const spanning = sampleEvents(36, "SPAN").map((event, i) => ({ ...event, entityName: `SPAN_${i % 3}` }));
    // 30 entities, one event each: no group spans two requests.
    const disjoint = sampleEvents(30, "DISJOINT");
    const publisher = new SqsEventPublisher({ queueUrl: queue.url, client: () => client });
    expect((await publisher.publish(spanning)).published).toHaveLength(36);
    expect((await publisher.publish(disjoint)).published).toHaveLength(30);
    const messages = server.inspectQueue(queue.name)?.messages.ready ?? [];
    expect(messages).toHaveLength(66);
    for (const group of ["SPAN_0", "SPAN_1", "SPAN_2"]) {
      const received = messages
        .filter((message) => message.messageGroupId === group)
        .map((message) => message.messageDeduplicationId);
      const sent = spanning.filter((event) => event.entityName === group).map((event) => event.eventId);
      expect(received).toEqual(sent);
    }
  });

  it("on a FIFO queue takes events of 200-character entity names (their group fits 128 characters)", async () => {
    const queue = newQueue({}, true);
    const [event] = sampleEvents(1, "LONG");
    const long = { ...event!, entityName: "L".repeat(200), key: `${"L".repeat(200)}_20220101T000000` };
    const result = await new SqsEventPublisher({ queueUrl: queue.url, client: () => client }).publish([long]);
    expect(result).toEqual({ published: [long.eventId], failed: [] });
    const [message] = queuedMessages(server, queue.name);
    expect(message?.messageGroupId).toBe(messageGroupId(long.entityName));
    expect(message?.messageGroupId?.length).toBeLessThanOrEqual(128);
  });

  it("refuses a message over the size limit with a clear reason; the rest of the batch goes out", async () => {
    const queue = newQueue();
    const events = sampleEvents(5, "SIZED");
    const huge = { ...events[2]!, messageId: "x".repeat(1_100_000) };
    events[2] = huge;
    const result = await new SqsEventPublisher({ queueUrl: queue.url, client: () => client }).publish(events);
    expect(result.failed).toEqual([
      {
        eventId: huge.eventId,
        reason: expect.stringMatching(
          /message of 1\d{6} bytes exceeds the SQS limit of 1048576 bytes/,
        ) as string,
        retryable: false,
      },
    ]);
    expect(result.published).toHaveLength(4);
    expect(await waitForBodies(queue.name, 4)).toHaveLength(4);
  });

  it("reports what the queue itself rejects (a lower MaximumMessageSize) without losing the others", async () => {
    const queue = newQueue({ MaximumMessageSize: "1024" });
    const events = sampleEvents(3, "QUEUE_LIMIT");
    events[1] = { ...events[1]!, messageId: "y".repeat(2000) };
    const result = await new SqsEventPublisher({ queueUrl: queue.url, client: () => client }).publish(events);
    expect(result.failed).toEqual([
      {
        eventId: events[1].eventId,
        reason: expect.stringMatching(
          /SQS rejected the message: InvalidParameterValue: .*shorter than 1024 bytes/,
        ) as string,
        retryable: false,
      },
    ]);
    expect(result.published).toEqual([events[0]!.eventId, events[2]!.eventId]);
  });

  it("retries entries SQS failed on its side, with backoff, until they go out", async () => {
    const queue = newQueue();
    const flaky = clientFor(server);
    let sabotaged = 0;
    // Fault injection on the real response: the first answer claims two entries failed server-side.
    flaky.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const output = result.output as { Successful?: { Id?: string }[]; Failed?: object[] } | undefined;
        if (sabotaged === 0 && output?.Successful && output.Successful.length >= 2) {
          sabotaged += 1;
          const [a, b, ...rest] = output.Successful;
          output.Successful = rest;
          output.Failed = [a, b].map((entry) => ({
            Id: entry?.Id,
            SenderFault: false,
            Code: "InternalError",
            Message: "try again",
          }));
        }
        return result;
      },
      { step: "initialize", name: "sabotageFirstAnswer" },
    );
    const events = sampleEvents(4, "RETRIED");
    const result = await new SqsEventPublisher({
      queueUrl: queue.url,
      client: () => flaky,
      backoffMillis: 5,
    }).publish(events);
    expect(sabotaged).toBe(1);
    expect([...result.published].sort()).toEqual(events.map((event) => event.eventId).sort());
    expect(result.failed).toEqual([]);
  });

  it("throws a transient error naming the events when the queue cannot be reached at all", async () => {
    const unreachable = clientFor(server, "http://127.0.0.1:9");
    const events = sampleEvents(2, "UNREACHABLE");
    const publisher = new SqsEventPublisher({
      queueUrl: "http://127.0.0.1:9/000000000000/nowhere",
      client: () => unreachable,
    });
    const error = await publisher.publish(events).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ code: "PUBLISH_UNAVAILABLE", retryable: true });
    expect((error as Error).message).toContain(events[0]!.eventId);
  });
});

describe("outbox relay with the emulator stopped mid-relay", () => {
  it("keeps undelivered events pending and delivers every committed event once the emulator is back", async () => {
    const { db } = await migratedTestDatabase("relay");
    const outbox = new KyselyOutbox(db);
    const clock = new ManualClock();
    let emulator = await startTestFauxqs();
    const queueName = "relayed-events";
    const queueUrl = emulator.server.createQueue(queueName).queueUrl;
    const sqs = new SqsEventPublisher({ queueUrl, client: () => emulator.client });

    const delivered: EntityEvent[] = [];
    let calls = 0;
    const stopsAfterFirstBatch: EventPublisher = {
      ordered: false,
      async publish(events) {
        const result = await sqs.publish(events);
        calls += 1;
        if (calls === 1) {
          delivered.push(...queuedEvents(emulator.server, queueName));
          await emulator.server.stop();
        }
        return result;
      },
    };
    const keys = Array.from({ length: 35 }, (_, i) => `RELAY_ENTITY_${i}_20220608T043249`);
    const processing = testServiceOn(db, { publisher: stopsAfterFirstBatch, clock });
    await processing.processEntities(keys.map((key, i) => ({ key, messageId: `m${i}` })));

    const interrupted = await processing.relayOutbox({ batchSize: 10 });
    expect(interrupted.published).toHaveLength(10);
    expect(interrupted.error).toMatchObject({ retryable: true });
    expect(await outbox.pendingCount()).toBe(25);

    const port = emulator.server.port;
    emulator = await startTestFauxqs(port);
    emulator.server.createQueue(queueName);
    clock.advance(DEFAULT_OUTBOX_POLICY.retryDelayMs);
    const resumed = await processing.relayOutbox({ batchSize: 10 });
    expect(resumed.error).toBeUndefined();
    expect(resumed.published).toHaveLength(25);
    expect(await outbox.pendingCount()).toBe(0);
    delivered.push(...queuedEvents(emulator.server, queueName));

    expect(new Set(delivered.map((event) => event.key))).toEqual(new Set(keys));
    await emulator.server.stop();
    await db.destroy();
  });
});

describe("two relays on separate connections (two processes)", () => {
  it("deliver every event exactly once between them", async () => {
    const database = await createTestDatabase("relays");
    const open = (): Kysely<EntityDatabase> => testKysely<EntityDatabase>(database.config, { max: 1 });
    const [first, second] = [open(), open()];
    await migrateToLatest(first);
    const queue = newQueue();
    const publisher = new SqsEventPublisher({ queueUrl: queue.url, client: () => client });
    const services = [first, second].map((db) => testServiceOn(db, { publisher }));
    const keys = Array.from({ length: 60 }, (_, i) => `TWO_RELAYS_${i}_20220608T043249`);
    await services[0]!.processEntities(keys.map((key, i) => ({ key, messageId: `m${i}` })));
    const [a, b] = await Promise.all(services.map((service) => service.relayOutbox({ batchSize: 5 })));
    expect(a!.published.length + b!.published.length).toBe(60);
    const bodies = await waitForBodies(queue.name, 60);
    expect(bodies.map((event) => event.key).sort()).toEqual([...keys].sort());
    await first.destroy();
    await second.destroy();
  });
});

/** A client of its own for the emulator (or an address that answers nothing), with no retries. */
function clientFor(running: FauxqsServer, endpoint = `http://127.0.0.1:${running.port}`): SQSClient {
  return emulatorSqsClient(endpoint, EMULATOR_REGION, { maxAttempts: 1 });
}
