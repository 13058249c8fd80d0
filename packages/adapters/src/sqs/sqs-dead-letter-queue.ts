import type { DeadLetter, DeadLetterQueue } from "@entity/domain";
import type { SqsClientProvider } from "./sqs-event-publisher.ts";
import { DEFAULT_SEND_LIMITS, sendInBatches, type OutgoingMessage, type SendLimits } from "./send-batches.ts";

const MAX_REASON_LENGTH = 1000;
/** The attributes' names and data types, as SQS counts them in a message's size. */
const ATTRIBUTE_OVERHEAD_BYTES = 100;

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
    // The body is kept whole (a redrive replays it); SQS counts the attributes too, so a body near its
    // limit leaves the reason only the room that is left (the code and message id still say why).
    const room =
      this.limits.maxMessageBytes -
      Buffer.byteLength(letter.body, "utf8") -
      Buffer.byteLength(letter.reasonCode + letter.messageId, "utf8") -
      ATTRIBUTE_OVERHEAD_BYTES;
    const reason = shortened(letter.reason || "(none)", Math.min(MAX_REASON_LENGTH, Math.max(1, room)));
    return {
      MessageBody: letter.body,
      MessageAttributes: {
        failureReason: { DataType: "String", StringValue: reason },
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

/** At most `maxBytes` of UTF-8 (whole characters), marked with … when cut. */
function shortened(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  let kept = "";
  let bytes = 0;
  for (const character of text) {
    const size = Buffer.byteLength(character, "utf8");
    if (bytes + size > maxBytes - 3) break;
    kept += character;
    bytes += size;
  }
  return `${kept}…`;
}
