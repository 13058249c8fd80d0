import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SendMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { randomUUID } from "node:crypto";

/** A dead-lettered message, with the reason the function gave (failureCode/failureReason attributes). */
export interface DeadLetter {
  readonly messageId: string | undefined;
  readonly body: string | undefined;
  readonly receiveCount: number;
  readonly failureCode: string | undefined;
  readonly failureReason: string | undefined;
}

/**
 * Every message in the dead-letter queue, each once. Listing leaves them visible; with `redriveTo` each
 * is sent back to that queue (body and attributes; on a FIFO queue its MessageGroupId and a deduplication
 * id) and then deleted from the DLQ, so none is lost if the send fails.
 */
export async function drainDeadLetters(
  client: SQSClient,
  dlqUrl: string,
  redriveTo?: string,
): Promise<DeadLetter[]> {
  const messages = redriveTo
    ? await redriveAll(client, dlqUrl, redriveTo)
    : await receiveAll(client, dlqUrl, 0);
  return messages.map((message) => ({
    messageId: message.MessageId,
    body: message.Body,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    failureCode: message.MessageAttributes?.failureCode?.StringValue,
    failureReason: message.MessageAttributes?.failureReason?.StringValue,
  }));
}

/**
 * Batch by batch until the DLQ is empty: a FIFO queue hands out no more of a message group while some of
 * it is in flight, so each batch is sent back and deleted before the next is received (and the group's
 * order is kept).
 */
async function redriveAll(client: SQSClient, dlqUrl: string, redriveTo: string): Promise<Message[]> {
  const redriven: Message[] = [];
  for (;;) {
    const batch = await receiveBatch(client, dlqUrl, 30);
    if (batch.length === 0) return redriven;
    for (const message of batch) {
      await client.send(
        new SendMessageCommand({ QueueUrl: redriveTo, ...redriveContent(message, redriveTo) }),
      );
      await client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
      redriven.push(message);
    }
  }
}

/**
 * What is sent back: body and attributes; to a FIFO queue also its message group and a deduplication id.
 * A fresh one: the original's would make SQS drop the message as a duplicate when it was first sent less
 * than 5 minutes ago (a redrive soon after a short visibility timeout, as in local runs).
 */
export function redriveContent(
  message: Message,
  redriveTo: string,
): Omit<SendMessageCommandInput, "QueueUrl"> {
  const groupId = message.Attributes?.MessageGroupId;
  return {
    MessageBody: message.Body ?? "",
    ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
    ...(redriveTo.endsWith(".fifo")
      ? { MessageGroupId: groupId ?? "redriven", MessageDeduplicationId: `redrive-${randomUUID()}` }
      : {}),
  };
}

/**
 * Sends the dead-lettered messages with these ids back to the source queue (see `redriveContent`) and
 * deletes them from the DLQ; the others are made visible again at once. Returns the ids it redrove.
 */
export async function redriveDeadLetters(
  client: SQSClient,
  dlqUrl: string,
  sourceUrl: string,
  messageIds: ReadonlySet<string>,
): Promise<string[]> {
  const messages = await receiveAll(client, dlqUrl, 30);
  const redriven: string[] = [];
  for (const message of messages) {
    if (!messageIds.has(message.MessageId ?? "")) {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: dlqUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      continue;
    }
    await client.send(new SendMessageCommand({ QueueUrl: sourceUrl, ...redriveContent(message, sourceUrl) }));
    await client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
    redriven.push(message.MessageId ?? "");
  }
  return redriven;
}

/** Every message in the queue, each once; a visibility timeout of 0 (listing) leaves them visible. */
async function receiveAll(
  client: SQSClient,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const received = await receiveBatch(client, queueUrl, visibilityTimeout);
    const fresh = received.filter((message) => !seen.has(message.MessageId ?? ""));
    if (fresh.length === 0) return [...seen.values()];
    for (const message of fresh) seen.set(message.MessageId ?? "", message);
  }
}

async function receiveBatch(
  client: SQSClient,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message[]> {
  const received = await client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibilityTimeout,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
  );
  return received.Messages ?? [];
}
