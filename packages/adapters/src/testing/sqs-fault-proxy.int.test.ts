import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { EntityEvent } from "@entity/domain";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqsEventPublisher } from "../sqs/sqs-event-publisher.ts";
import { EMULATOR_REGION, emulatorSqsClient, queuedBodies } from "../sqs/emulator.ts";
import { startTestFauxqs, type TestSqsEmulator } from "./fauxqs.ts";
import { startSqsFaultProxy, type SqsEntryFault, type SqsFaultProxy } from "./sqs-fault-proxy.ts";

// The SQS fault proxy in front of fauxqs, driven by the real SDK and the real SqsEventPublisher.
let emulator: TestSqsEmulator;
let proxy: SqsFaultProxy;
let client: SQSClient;
let otherUrl: string;
const REFUSED: SqsEntryFault = { code: "InvalidMessageContents", message: "refused", senderFault: true };
const UNAVAILABLE: SqsEntryFault = { code: "InternalError", message: "try again", senderFault: false };
const flakyAttempts = new Map<string, number>();

beforeAll(async () => {
  emulator = await startTestFauxqs();
  otherUrl = emulator.server.createQueue("other").queueUrl;
  proxy = await startSqsFaultProxy({
    target: emulator.endpoint,
    // Faults only for the queues named "proxied-...".
    faultFor: (entry, url) => {
      if (!url.split("/").at(-1)!.startsWith("proxied-")) return undefined;
      if (entry.MessageBody.includes("REFUSED")) return REFUSED;
      if (!entry.MessageBody.includes("FLAKY")) return undefined;
      // Fails its first two attempts, then goes through.
      const attempts = (flakyAttempts.get(entry.MessageBody) ?? 0) + 1;
      flakyAttempts.set(entry.MessageBody, attempts);
      return attempts <= 2 ? UNAVAILABLE : undefined;
    },
  });
  client = sdkClient(proxy.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await proxy?.close();
  await emulator?.server.stop();
});

function sdkClient(endpoint: string): SQSClient {
  return emulatorSqsClient(endpoint, EMULATOR_REGION, { useQueueUrlAsEndpoint: false, maxAttempts: 1 });
}

const proxiedQueue = (name: string): string => emulator.server.createQueue(`proxied-${name}`).queueUrl;
const bodies = (url: string): unknown[] =>
  queuedBodies(emulator.server, url.split("/").at(-1)!).map((body) => JSON.parse(body) as unknown);

describe("SQS fault proxy", () => {
  it("answers chosen SendMessageBatch entries as failed and sends the rest on", async () => {
    const queueUrl = proxiedQueue("mixed");
    const before = proxy.counts();
    const answer = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ["GOOD_1", "REFUSED_1", "FLAKY_1", "GOOD_2"].map((name, i) => ({
          Id: `e${i}`,
          MessageBody: JSON.stringify(name),
        })),
      }),
    );
    expect(answer.Successful?.map((entry) => entry.Id).sort()).toEqual(["e0", "e3"]);
    expect(answer.Failed).toEqual(
      expect.arrayContaining([
        { Id: "e1", SenderFault: true, Code: "InvalidMessageContents", Message: "refused" },
        { Id: "e2", SenderFault: false, Code: "InternalError", Message: "try again" },
      ]),
    );
    expect(answer.Failed).toHaveLength(2);
    expect(bodies(queueUrl).sort()).toEqual(["GOOD_1", "GOOD_2"]);
    const after = proxy.counts();
    expect(after.batches - before.batches).toBe(1);
    expect(after.permanentFailures - before.permanentFailures).toBe(1);
    expect(after.transientFailures - before.transientFailures).toBe(1);
    expect(after.entriesPassed - before.entriesPassed).toBe(2);
  });

  it("passes other queues and other actions through untouched", async () => {
    const queueUrl = proxiedQueue("single");
    await client.send(
      new SendMessageBatchCommand({
        QueueUrl: otherUrl,
        Entries: [{ Id: "a", MessageBody: JSON.stringify("REFUSED_ELSEWHERE") }],
      }),
    );
    await client.send(
      new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify("REFUSED_SINGLE") }),
    );
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl: otherUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(received.Messages?.map((message) => message.Body)).toEqual([JSON.stringify("REFUSED_ELSEWHERE")]);
    expect(bodies(queueUrl)).toEqual(["REFUSED_SINGLE"]);
  });

  it("through SqsEventPublisher: a refused event fails for good, a transient failure is retried and sent", async () => {
    const queueUrl = proxiedQueue("events");
    const publisher = new SqsEventPublisher({ queueUrl, client: () => client, backoffMillis: 1 });
    const event = (entityName: string, eventId: string): EntityEvent => ({
      eventId,
      type: "entity.created",
      entityName,
      key: `${entityName}_20220101T000000`,
      observedAt: "2022-01-01T00:00:00.000Z",
      occurredAt: "2022-01-01T00:00:01.000Z",
      messageId: `m-${eventId}`,
    });
    const result = await publisher.publish([
      event("REFUSED_ENTITY", "ev-1"),
      event("FLAKY_ENTITY", "ev-2"),
      event("GOOD_ENTITY", "ev-3"),
    ]);
    expect([...result.published].sort()).toEqual(["ev-2", "ev-3"]);
    expect(result.failed).toEqual([
      {
        eventId: "ev-1",
        reason: "SQS rejected the message: InvalidMessageContents: refused",
        retryable: false,
      },
    ]);
    const delivered = bodies(queueUrl).map((body) => (body as EntityEvent).entityName);
    expect(delivered.sort()).toEqual(["FLAKY_ENTITY", "GOOD_ENTITY"]);
  });

  it("answers a request whose every entry fails without sending anything", async () => {
    const queueUrl = proxiedQueue("refused");
    const answer = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ["REFUSED_A", "REFUSED_B"].map((name) => ({ Id: name, MessageBody: JSON.stringify(name) })),
      }),
    );
    expect(answer.Successful ?? []).toEqual([]);
    expect(answer.Failed?.map((entry) => [entry.Id, entry.SenderFault])).toEqual([
      ["REFUSED_A", true],
      ["REFUSED_B", true],
    ]);
    expect(bodies(queueUrl)).toEqual([]);
  });
});
