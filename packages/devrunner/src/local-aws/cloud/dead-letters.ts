import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";

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
 * is sent back to that queue (body and attributes) and then deleted from the DLQ, so none is lost if
 * the send fails.
 */
export async function drainDeadLetters(
  client: SQSClient,
  dlqUrl: string,
  redriveTo?: string,
): Promise<DeadLetter[]> {
  const messages = await receiveAll(client, dlqUrl, redriveTo ? 30 : 0);
  for (const message of redriveTo ? messages : []) {
    await client.send(
      new SendMessageCommand({
        QueueUrl: redriveTo,
        MessageBody: message.Body ?? "",
        ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
      }),
    );
    await client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle }));
  }
  return messages.map((message) => ({
    messageId: message.MessageId,
    body: message.Body,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    failureCode: message.MessageAttributes?.failureCode?.StringValue,
    failureReason: message.MessageAttributes?.failureReason?.StringValue,
  }));
}

/**
 * Sends the dead-lettered messages with these ids back to the source queue (body and attributes) and
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
    await client.send(
      new SendMessageCommand({
        QueueUrl: sourceUrl,
        MessageBody: message.Body ?? "",
        ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
      }),
    );
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
    const fresh = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId ?? ""));
    if (fresh.length === 0) return [...seen.values()];
    for (const message of fresh) seen.set(message.MessageId ?? "", message);
  }
}
