import type { SendMessageBatchRequestEntry, SQSClient } from "@aws-sdk/client-sqs";

/** SQS's limits for one message and for one SendMessageBatch request (1 MiB since August 2025). */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

export type OutgoingMessage = Omit<SendMessageBatchRequestEntry, "Id">;

export interface SendLimits {
  readonly maxMessageBytes: number;
  readonly maxBatchBytes: number;
  /** Attempts for entries SQS reports as failed without the sender at fault. */
  readonly maxAttempts: number;
  readonly backoffMillis: number;
  /** SendMessageBatch requests in flight at once (standard queues). */
  readonly parallelRequests: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = {
  maxMessageBytes: SQS_MAX_MESSAGE_BYTES,
  maxBatchBytes: SQS_MAX_MESSAGE_BYTES,
  maxAttempts: 3,
  backoffMillis: 100,
  // The SDK's HTTP agent keeps up to 50 sockets; past ~32 requests in flight a batch of 1,000 events
  // (100 requests) gains nothing (bench/same-io-floor.ts tries 8, 32 and 100).
  parallelRequests: 32,
};

export interface SendFailure {
  readonly id: string;
  readonly reason: string;
  readonly retryable: boolean;
}

export interface SendOutcome {
  readonly sent: readonly string[];
  readonly failed: readonly SendFailure[];
  /** How many SendMessageBatch calls failed as a whole (after the SDK's own retries), and the last error. */
  readonly callErrors: number;
  readonly lastCallError?: unknown;
}

/**
 * Sends messages (keyed by the caller's ids) in SendMessageBatch requests of at most 10 entries within
 * the size limit. Too-large messages are refused before sending; entries SQS fails on its side are
 * retried with exponential backoff; a request that fails as a whole fails its entries, not the others.
 */
export async function sendInBatches(
  client: SQSClient,
  queueUrl: string,
  messages: ReadonlyMap<string, OutgoingMessage>,
  limits: SendLimits = DEFAULT_SEND_LIMITS,
): Promise<SendOutcome> {
  const sent: string[] = [];
  const failed: SendFailure[] = [];
  const sendable: { id: string; message: OutgoingMessage; bytes: number }[] = [];
  for (const [id, message] of messages) {
    const bytes = messageBytes(message);
    if (bytes > limits.maxMessageBytes) {
      failed.push({
        id,
        reason: `message of ${bytes} bytes exceeds the SQS limit of ${limits.maxMessageBytes} bytes`,
        retryable: false,
      });
    } else {
      sendable.push({ id, message, bytes });
    }
  }
  let callErrors = 0;
  let lastCallError: unknown;
  const chunks = chunkBySizeAndCount(sendable, limits.maxBatchBytes);
  // Requests go out several at a time. On a FIFO queue a group's order holds only between requests sent
  // one after the other, so they go one at a time when a group spans requests (an ordered relay's round
  // takes one event per entity, so its groups never do).
  const parallel = queueUrl.endsWith(".fifo") && groupSpansChunks(chunks) ? 1 : limits.parallelRequests;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < chunks.length) {
      const chunk = chunks[next]!;
      next += 1;
      try {
        const outcome = await sendWithRetries(client, queueUrl, chunk, limits);
        sent.push(...outcome.sent);
        failed.push(...outcome.failed);
      } catch (error) {
        callErrors += 1;
        lastCallError = error;
        const reason = `SendMessageBatch failed: ${describeError(error)}`;
        failed.push(...chunk.map((item) => ({ id: item.id, reason, retryable: true })));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, chunks.length) }, worker));
  return { sent, failed, callErrors, lastCallError };
}

async function sendWithRetries(
  client: SQSClient,
  queueUrl: string,
  items: readonly { id: string; message: OutgoingMessage }[],
  limits: SendLimits,
): Promise<{ sent: string[]; failed: SendFailure[] }> {
  const sent: string[] = [];
  const failed: SendFailure[] = [];
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    // Entry ids are positions: the caller's ids may hold characters SQS does not allow there.
    const byEntryId = new Map(pending.map((item, index) => [`e${index}`, item]));
    // Loaded on first send, not at start: the SDK is most of the bundle, and a cold start pays for it.
    const { SendMessageBatchCommand } = await import("@aws-sdk/client-sqs");
    const response = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [...byEntryId].map(([entryId, item]) => ({ Id: entryId, ...item.message })),
      }),
    );
    for (const success of response.Successful ?? []) {
      const item = byEntryId.get(success.Id ?? "");
      if (item) sent.push(item.id);
    }
    const retry: (typeof items)[number][] = [];
    for (const failure of response.Failed ?? []) {
      const item = byEntryId.get(failure.Id ?? "");
      if (!item) continue;
      const reason =
        `SQS rejected the message: ${failure.Code ?? "unknown"}: ${failure.Message ?? ""}`.trim();
      if (failure.SenderFault) failed.push({ id: item.id, reason, retryable: false });
      else if (attempt >= limits.maxAttempts)
        failed.push({ id: item.id, reason: `${reason} (after ${attempt} attempts)`, retryable: true });
      else retry.push(item);
    }
    pending = retry;
    if (pending.length > 0) await sleep(limits.backoffMillis * 2 ** (attempt - 1) * (0.5 + Math.random()));
  }
  return { sent, failed };
}

function groupSpansChunks(chunks: readonly (readonly { message: OutgoingMessage }[])[]): boolean {
  const chunkOfGroup = new Map<string | undefined, number>();
  for (const [index, chunk] of chunks.entries()) {
    for (const { message } of chunk) {
      const seenIn = chunkOfGroup.get(message.MessageGroupId);
      if (seenIn !== undefined && seenIn !== index) return true;
      chunkOfGroup.set(message.MessageGroupId, index);
    }
  }
  return false;
}

/** Size as SQS counts it: the body plus each attribute's name, type and value. */
function messageBytes(message: OutgoingMessage): number {
  let bytes = Buffer.byteLength(message.MessageBody ?? "", "utf8");
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
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

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
