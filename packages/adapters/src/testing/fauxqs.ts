import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { emulatorSqsClient, startSqsEmulator, type SqsEmulator } from "../sqs/emulator.ts";

export interface TestSqsEmulator extends SqsEmulator {
  /** An SQS client pointed at it explicitly (two attempts: a test's fault should not hide behind retries). */
  readonly client: SQSClient;
}

/** The SQS emulator in-process on a free (or given) port, in the default region, with a client for it. */
export async function startTestFauxqs(port = 0): Promise<TestSqsEmulator> {
  const emulator = await startSqsEmulator({ port });
  return { ...emulator, client: emulatorSqsClient(emulator.endpoint, emulator.region, { maxAttempts: 2 }) };
}

/**
 * Receives every message now in the queue, with all attributes, as a consumer would: they stay in flight
 * (not deleted), so the next drain sees only what arrived since. To look without receiving, see
 * `queuedMessages`.
 */
export async function drainQueue(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const received = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ["All"],
        WaitTimeSeconds: 0,
      }),
    );
    if (!received.Messages?.length) return messages;
    messages.push(...received.Messages);
  }
}
