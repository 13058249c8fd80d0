import type { DeadLetter, DeadLetterQueue } from "@entity/domain";
import type { SqsClientProvider } from "./sqs-event-publisher.ts";
import { DEFAULT_SEND_LIMITS, sendInBatches, type OutgoingMessage, type SendLimits } from "./send-batches.ts";

const MAX_REASON_LENGTH = 1000;

/**
 * Sets messages aside in an SQS dead-letter queue: the body exactly as received (so a redrive replays the
 * same message), with the reason, its code and the original message id as message attributes.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  private readonly queueUrl: string;
  private readonly client: SqsClientProvider;
  private readonly limits: SendLimits;
  private readonly fifo: boolean;

  constructor(options: { queueUrl: string; client: SqsClientProvider } & Partial<SendLimits>) {
    const { queueUrl, client, ...limits } = options;
    this.queueUrl = queueUrl;
    this.client = client;
    this.limits = { ...DEFAULT_SEND_LIMITS, ...limits };
    this.fifo = queueUrl.endsWith(".fifo");
  }

  async send(letters: readonly DeadLetter[]): Promise<{ failed: readonly string[] }> {
    if (letters.length === 0) return { failed: [] };
    const messages = new Map(letters.map((letter) => [letter.messageId, this.messageFor(letter)]));
    try {
      const outcome = await sendInBatches(await this.client(), this.queueUrl, messages, this.limits);
      return { failed: outcome.failed.map((failure) => failure.id) };
    } catch {
      return { failed: letters.map((letter) => letter.messageId) };
    }
  }

  private messageFor(letter: DeadLetter): OutgoingMessage {
    const reason =
      letter.reason.length > MAX_REASON_LENGTH
        ? `${letter.reason.slice(0, MAX_REASON_LENGTH)}…`
        : letter.reason;
    return {
      MessageBody: letter.body,
      MessageAttributes: {
        failureReason: { DataType: "String", StringValue: reason || "(none)" },
        failureCode: { DataType: "String", StringValue: letter.reasonCode },
        originalMessageId: { DataType: "String", StringValue: letter.messageId },
      },
      ...(this.fifo
        ? {
            MessageGroupId: letter.group ?? "dead-letters",
            MessageDeduplicationId: letter.messageId.replace(/[^\w-]/g, "_").slice(0, 128),
          }
        : {}),
    };
  }
}
