import { createHash } from "node:crypto";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import {
  TransientPortError,
  type EntityEvent,
  type EventPublisher,
  type PublishResult,
} from "@entity/domain";
import {
  DEFAULT_SEND_LIMITS,
  describeError,
  sendInBatches,
  type OutgoingMessage,
  type SendLimits,
} from "./send-batches.ts";

export interface SqsEventPublisherOptions extends Partial<SendLimits> {
  readonly queueUrl: string;
  /** The process's one client; see `lazySqsClient`. */
  readonly client: SqsClientProvider;
}

export type SqsClientProvider = () => SQSClient | Promise<SQSClient>;

/**
 * One SQS client, created (and the SDK loaded) on first use. Endpoint and region come from the SDK's own
 * settings (`AWS_ENDPOINT_URL_SQS` / `AWS_ENDPOINT_URL`, `AWS_REGION`) unless `config` overrides them.
 */
export function lazySqsClient(config: SQSClientConfig = {}): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= import("@aws-sdk/client-sqs").then(({ SQSClient: Client }) => {
      // With an endpoint from the environment (an emulator such as fauxqs), keep to it: by default the SDK
      // sends to the queue URL's host instead, and an emulator's `sqs.REGION.localhost` need not resolve.
      const endpointFromEnv = Boolean(process.env.AWS_ENDPOINT_URL_SQS || process.env.AWS_ENDPOINT_URL);
      return new Client({ ...(endpointFromEnv ? { useQueueUrlAsEndpoint: false } : {}), ...config });
    });
    return client;
  };
}

/** SQS's limit for MessageGroupId (and MessageDeduplicationId). */
export const SQS_MAX_GROUP_ID_LENGTH = 128;

/**
 * The FIFO message group of an entity: its name when it fits SQS's 128 characters; a longer name (names
 * may have 200) keeps its first 111 characters, then `~` and 16 hex digits of the name's SHA-256, so the
 * group stays deterministic and two long names sharing a prefix still get different groups.
 */
export function messageGroupId(entityName: string): string {
  if (entityName.length <= SQS_MAX_GROUP_ID_LENGTH) return entityName;
  const digest = createHash("sha256").update(entityName, "utf8").digest("hex").slice(0, 16);
  return `${entityName.slice(0, SQS_MAX_GROUP_ID_LENGTH - 17)}~${digest}`;
}

/**
 * Publishes events to one SQS queue as JSON bodies, with the event type and id as message attributes.
 * On a FIFO queue the entity is the message group (per-entity order, see `messageGroupId`) and the event
 * id the deduplication id (a relay that sends twice within 5 minutes delivers once).
 */
export class SqsEventPublisher implements EventPublisher {
  /** A FIFO queue keeps each group's order, so the relay must too. */
  readonly ordered: boolean;
  private readonly queueUrl: string;
  private readonly client: SqsClientProvider;
  private readonly limits: SendLimits;

  constructor(options: SqsEventPublisherOptions) {
    const { queueUrl, client, ...limits } = options;
    this.queueUrl = queueUrl;
    this.client = client;
    this.limits = { ...DEFAULT_SEND_LIMITS, ...limits };
    this.ordered = queueUrl.endsWith(".fifo");
  }

  async publish(events: readonly EntityEvent[]): Promise<PublishResult> {
    if (events.length === 0) return { published: [], failed: [] };
    const messages = new Map(events.map((event) => [event.eventId, this.messageFor(event)]));
    const outcome = await sendInBatches(await this.client(), this.queueUrl, messages, this.limits);
    const failed = outcome.failed.map((failure) => ({
      eventId: failure.id,
      reason: failure.reason,
      retryable: failure.retryable,
    }));
    if (outcome.sent.length === 0 && outcome.callErrors > 0) {
      const ids = failed.map((failure) => failure.eventId);
      throw new TransientPortError(
        `could not publish ${ids.length} event(s) to ${this.queueUrl} (${ids.slice(0, 5).join(", ")}${
          ids.length > 5 ? ", ..." : ""
        }): ${describeError(outcome.lastCallError)}`,
        { cause: outcome.lastCallError, code: "PUBLISH_UNAVAILABLE" },
      );
    }
    return { published: outcome.sent, failed };
  }

  private messageFor(event: EntityEvent): OutgoingMessage {
    return {
      MessageBody: JSON.stringify(event),
      MessageAttributes: {
        eventType: { DataType: "String", StringValue: event.type },
        eventId: { DataType: "String", StringValue: event.eventId },
      },
      ...(this.ordered
        ? { MessageGroupId: messageGroupId(event.entityName), MessageDeduplicationId: event.eventId }
        : {}),
    };
  }
}
