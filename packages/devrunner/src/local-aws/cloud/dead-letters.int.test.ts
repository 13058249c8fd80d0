import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainDeadLetters } from "./dead-letters.ts";
import { localSqsClient } from "./local-cloud.ts";

// The SQS emulator in this process (no container): a FIFO source queue and its FIFO dead-letter queue.
let server: FauxqsServer;
let client: ReturnType<typeof localSqsClient>;
beforeAll(async () => {
  server = await startFauxqs({ port: 0, logger: false });
  client = localSqsClient(`http://127.0.0.1:${server.port}`);
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

async function fifoQueue(name: string): Promise<string> {
  const created = await client.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: "true" } }),
  );
  return created.QueueUrl!;
}

async function receiveEverything(queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) return all;
    for (const message of Messages) {
      all.push(message);
      await client.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

describe("dlq --redrive on FIFO queues", () => {
  it("keeps each message's group and order, sends a deduplication id, and loses none", async () => {
    const source = await fifoQueue("entities.fifo");
    const dlq = await fifoQueue("entities-dlq.fifo");
    // As a dead-lettering leaves them: sent to the source moments ago (their deduplication ids are in its
    // 5-minute window), now in the DLQ. Group A has more than one receive's worth (10).
    const sent = [
      ...Array.from({ length: 12 }, (_, index) => ({ group: "A", body: `a${index}` })),
      { group: "B", body: "b0" },
    ];
    for (const { group, body } of sent) {
      const dedup = `original-${body}`;
      const input = { MessageBody: body, MessageGroupId: group, MessageDeduplicationId: dedup };
      await client.send(new SendMessageCommand({ QueueUrl: source, ...input }));
      await client.send(new SendMessageCommand({ QueueUrl: dlq, ...input }));
    }
    expect(await receiveEverything(source)).toHaveLength(sent.length);

    const redriven = await drainDeadLetters(client, dlq, source);
    expect(redriven).toHaveLength(sent.length);

    const back = await receiveEverything(source);
    const byGroup = (group: string): string[] =>
      back.filter((message) => message.Attributes?.MessageGroupId === group).map((message) => message.Body!);
    expect(byGroup("A")).toEqual(sent.filter(({ group }) => group === "A").map(({ body }) => body));
    expect(byGroup("B")).toEqual(["b0"]);
    for (const message of back)
      expect(message.Attributes?.MessageDeduplicationId).toMatch(/^redrive-[0-9a-f-]{36}$/);
    expect(await drainDeadLetters(client, dlq)).toEqual([]);
  });
});
