import {
  SendMessageBatchCommand,
  SQSClient,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClientConfig,
} from "@aws-sdk/client-sqs";
import {
  TransientPortError,
  type EntityEvent,
  type EventPublisher,
  type PublishFailure,
  type PublishResult,
} from "@entity/domain";

/** SQS's limits for one message and for one SendMessageBatch request (1 MiB since August 2025). */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

export interface SqsEventPublisherOptions {
  readonly queueUrl: string;
  /** The process's one client; see `lazySqsClient`. */
  readonly client: () => SQSClient;
  readonly maxMessageBytes?: number;
  readonly maxBatchBytes?: number;
  /** Attempts for entries SQS reports as failed without the sender at fault. */
  readonly maxAttempts?: number;
  readonly backoffMillis?: number;
}

/**
 * One SQS client, created on first use. Endpoint and region come from the SDK's own settings
 * (`AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`, `AWS_REGION`) unless `config` overrides them.
 */
export function lazySqsClient(config: SQSClientConfig = {}): () => SQSClient {
  let client: SQSClient | undefined;
  return () => (client ??= new SQSClient(config));
}

/**
 * Publishes events to one SQS queue as JSON bodies, with the event type and id as message attributes.
 * Sends batches of at most 10 within the size limit; retries entries SQS failed on its side with backoff
 * and reports what still fails. On a FIFO queue the entity name is the message group (per-entity order)
 * and the event id the deduplication id (a relay that sends twice within 5 minutes delivers once).
 */
export class SqsEventPublisher implements EventPublisher {
  private readonly options: Required<SqsEventPublisherOptions>;
  private readonly fifo: boolean;

  constructor(options: SqsEventPublisherOptions) {
    this.options = {
      maxMessageBytes: SQS_MAX_MESSAGE_BYTES,
      maxBatchBytes: SQS_MAX_MESSAGE_BYTES,
      maxAttempts: 3,
      backoffMillis: 100,
      ...options,
    };
    this.fifo = options.queueUrl.endsWith(".fifo");
  }

  async publish(events: readonly EntityEvent[]): Promise<PublishResult> {
    const published: string[] = [];
    const failed: PublishFailure[] = [];
    const sendable: { event: EntityEvent; entry: Omit<SendMessageBatchRequestEntry, "Id">; bytes: number }[] =
      [];
    for (const event of events) {
      const entry = this.entryFor(event);
      const bytes = messageBytes(entry);
      if (bytes > this.options.maxMessageBytes) {
        failed.push({
          eventId: event.eventId,
          reason: `message of ${bytes} bytes exceeds the SQS limit of ${this.options.maxMessageBytes} bytes`,
          retryable: false,
        });
      } else {
        sendable.push({ event, entry, bytes });
      }
    }

    let callErrors = 0;
    let lastCallError: unknown;
    for (const chunk of chunkBySizeAndCount(sendable, this.options.maxBatchBytes)) {
      try {
        const result = await this.sendWithRetries(
          chunk.map((item) => ({ event: item.event, entry: item.entry })),
        );
        published.push(...result.published);
        failed.push(...result.failed);
      } catch (error) {
        callErrors += 1;
        lastCallError = error;
        const reason = `SendMessageBatch failed: ${describe(error)}`;
        failed.push(...chunk.map((item) => ({ eventId: item.event.eventId, reason, retryable: true })));
      }
    }
    if (published.length === 0 && callErrors > 0) {
      const ids = failed.map((failure) => failure.eventId);
      throw new TransientPortError(
        `could not publish ${ids.length} event(s) to ${this.options.queueUrl} (${ids.slice(0, 5).join(", ")}${
          ids.length > 5 ? ", ..." : ""
        }): ${describe(lastCallError)}`,
        { cause: lastCallError, code: "PUBLISH_UNAVAILABLE" },
      );
    }
    return { published, failed };
  }

  private entryFor(event: EntityEvent): Omit<SendMessageBatchRequestEntry, "Id"> {
    const attributes: Record<string, MessageAttributeValue> = {
      eventType: { DataType: "String", StringValue: event.type },
      eventId: { DataType: "String", StringValue: event.eventId },
    };
    return {
      MessageBody: JSON.stringify(event),
      MessageAttributes: attributes,
      ...(this.fifo ? { MessageGroupId: event.entityName, MessageDeduplicationId: event.eventId } : {}),
    };
  }

  private async sendWithRetries(
    items: { event: EntityEvent; entry: Omit<SendMessageBatchRequestEntry, "Id"> }[],
  ): Promise<PublishResult> {
    const published: string[] = [];
    const failed: PublishFailure[] = [];
    let pending = items;
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      const byId = new Map(pending.map((item, index) => [`e${index}`, item]));
      const response = await this.options.client().send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: [...byId].map(([id, item]) => ({ Id: id, ...item.entry })),
        }),
      );
      for (const success of response.Successful ?? []) {
        const item = byId.get(success.Id ?? "");
        if (item) published.push(item.event.eventId);
      }
      const retry: typeof pending = [];
      for (const failure of response.Failed ?? []) {
        const item = byId.get(failure.Id ?? "");
        if (!item) continue;
        const reason =
          `SQS rejected the message: ${failure.Code ?? "unknown"}: ${failure.Message ?? ""}`.trim();
        if (failure.SenderFault) {
          failed.push({ eventId: item.event.eventId, reason, retryable: false });
        } else if (attempt >= this.options.maxAttempts) {
          failed.push({
            eventId: item.event.eventId,
            reason: `${reason} (after ${attempt} attempts)`,
            retryable: true,
          });
        } else {
          retry.push(item);
        }
      }
      pending = retry;
      if (pending.length > 0)
        await sleep(this.options.backoffMillis * 2 ** (attempt - 1) * (0.5 + Math.random()));
    }
    return { published, failed };
  }
}

/** Size as SQS counts it: the body plus each attribute's name, type and value. */
function messageBytes(entry: Omit<SendMessageBatchRequestEntry, "Id">): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? "", "utf8");
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name, "utf8") + Buffer.byteLength(value.DataType ?? "", "utf8");
    bytes += Buffer.byteLength(value.StringValue ?? "", "utf8");
  }
  return bytes;
}

function chunkBySizeAndCount<T extends { bytes: number }>(items: readonly T[], maxBatchBytes: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const item of items) {
    if (
      current.length === SQS_MAX_BATCH_ENTRIES ||
      (current.length > 0 && currentBytes + item.bytes > maxBatchBytes)
    ) {
      chunks.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(item);
    currentBytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
