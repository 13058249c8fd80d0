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

/**
 * Publishes events to one SQS queue as JSON bodies, with the event type and id as message attributes.
 * On a FIFO queue the entity name is the message group (per-entity order) and the event id the
 * deduplication id (a relay that sends twice within 5 minutes delivers once).
 */
export class SqsEventPublisher implements EventPublisher {
  private readonly queueUrl: string;
  private readonly client: SqsClientProvider;
  private readonly limits: SendLimits;
  private readonly fifo: boolean;

  constructor(options: SqsEventPublisherOptions) {
    const { queueUrl, client, ...limits } = options;
    this.queueUrl = queueUrl;
    this.client = client;
    this.limits = { ...DEFAULT_SEND_LIMITS, ...limits };
    this.fifo = queueUrl.endsWith(".fifo");
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
      ...(this.fifo ? { MessageGroupId: event.entityName, MessageDeduplicationId: event.eventId } : {}),
    };
  }
}
