import {
  ChangeMessageVisibilityBatchCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { resolveTemplateValue, type SamTemplate } from "../template/sam-template.ts";
import { startFauxqs, type FauxqsServer } from "fauxqs";

export const LOCAL_REGION = "us-east-1";

/** An SQS client for the local emulator (explicit endpoint: its queue URLs name a host that need not resolve). */
export function localSqsClient(endpoint: string, region: string = LOCAL_REGION): SQSClient {
  return new SQSClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
}

export interface LocalQueue {
  readonly logicalId: string;
  readonly name: string;
  readonly url: string;
  readonly arn: string;
}

export interface LocalCloud {
  readonly server: FauxqsServer;
  /** What SDK clients must use as their endpoint (fauxqs's queue URLs name a host that need not resolve). */
  readonly endpoint: string;
  /** The region of its ARNs and queue URLs, and of the SDK settings it hands out. */
  readonly region: string;
  readonly queues: ReadonlyMap<string, LocalQueue>;
  readonly topics: ReadonlyMap<string, { name: string; arn: string }>;
  /** Resolves `Ref` / `Fn::GetAtt` of the template's queues and topics as CloudFormation would. */
  readonly resolveResource: (logicalId: string, attribute?: string) => string | undefined;
  /** Environment for AWS SDK clients (the function's and ours) pointed at the emulator. */
  readonly sdkEnvironment: Readonly<Record<string, string>>;
  /** With `dataDir`: the messages its queues kept from the last run, and how many of them were in flight. */
  readonly kept: { readonly messages: number; readonly wereInFlight: number };
  readonly stop: () => Promise<void>;
}

export interface LocalCloudOptions {
  readonly port?: number;
  /** Default us-east-1. */
  readonly region?: string;
  /** Replaces every queue's VisibilityTimeout, so failed records come back sooner in local runs. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Keep queues, topics and messages in this folder between runs (fauxqs's SQLite persistence): what a
   * run leaves in its queues is there on the next start.
   */
  readonly dataDir?: string;
}

/**
 * fauxqs in this process, with the template's SQS queues (redrive policies included), SNS topics and
 * SNS -> SQS subscriptions created as CloudFormation would.
 */
export async function startLocalCloud(
  template: SamTemplate,
  options: LocalCloudOptions = {},
): Promise<LocalCloud> {
  const region = options.region ?? LOCAL_REGION;
  const server = await startFauxqs({
    port: options.port ?? 0,
    logger: false,
    defaultRegion: region,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = localSqsClient(endpoint, region);
  const queues = new Map<string, LocalQueue>();
  const topics = new Map<string, { name: string; arn: string }>();
  const resolveResource = (logicalId: string, attribute?: string): string | undefined => {
    const queue = queues.get(logicalId);
    if (queue)
      return attribute === "Arn"
        ? queue.arn
        : attribute === "QueueName"
          ? queue.name
          : attribute
            ? undefined
            : queue.url;
    const topic = topics.get(logicalId);
    if (topic) return attribute === "TopicName" ? topic.name : topic.arn;
    return undefined;
  };
  const resources = Object.entries(template.resources);
  const resolve = (value: unknown): string | undefined =>
    resolveTemplateValue(value, { "AWS::Region": region }, template, resolveResource);

  // Queues without a redrive policy first: a redrive policy names its dead-letter queue's ARN.
  const queueResources = resources
    .filter(([, resource]) => resource.Type === "AWS::SQS::Queue")
    .sort(
      ([, a], [, b]) =>
        Number(Boolean(a.Properties?.RedrivePolicy)) - Number(Boolean(b.Properties?.RedrivePolicy)),
    );
  for (const [logicalId, resource] of queueResources) {
    const properties = resource.Properties ?? {};
    const fifo = properties.FifoQueue === true || properties.FifoQueue === "true";
    const givenName = resolve(properties.QueueName);
    const name = (givenName ?? logicalId) + (fifo && !(givenName ?? "").endsWith(".fifo") ? ".fifo" : "");
    const attributes: Record<string, string> = {};
    for (const attribute of [
      "VisibilityTimeout",
      "MessageRetentionPeriod",
      "DelaySeconds",
      "MaximumMessageSize",
      "ReceiveMessageWaitTimeSeconds",
      "ContentBasedDeduplication",
    ]) {
      const value = resolve(properties[attribute]);
      if (value !== undefined) attributes[attribute] = value;
    }
    if (options.visibilityTimeoutSeconds !== undefined)
      attributes.VisibilityTimeout = String(options.visibilityTimeoutSeconds);
    if (fifo) attributes.FifoQueue = "true";
    const redrive = properties.RedrivePolicy as
      { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
    if (redrive) {
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: resolve(redrive.deadLetterTargetArn),
        maxReceiveCount: Number(resolve(redrive.maxReceiveCount) ?? 10),
      });
    }
    const kept = server.inspectQueue(name);
    if (kept) {
      // Kept from the last run: creating it again would drop its messages; the template's attributes
      // (or --visibility-timeout) may have changed since.
      const url = kept.url.replace(/^https?:\/\/[^/]+/, endpoint);
      const { FifoQueue: _fifo, ...settable } = attributes;
      await client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settable }));
      queues.set(logicalId, { logicalId, name, url, arn: kept.arn });
      continue;
    }
    const created = server.createQueue(name, { attributes });
    queues.set(logicalId, {
      logicalId,
      name: created.queueName,
      url: created.queueUrl,
      arn: created.queueArn,
    });
  }
  for (const [logicalId, resource] of resources.filter(([, r]) => r.Type === "AWS::SNS::Topic")) {
    const name = resolve(resource.Properties?.TopicName) ?? logicalId;
    topics.set(logicalId, { name, arn: server.createTopic(name).topicArn });
  }
  for (const [, resource] of resources.filter(([, r]) => r.Type === "AWS::SNS::Subscription")) {
    const properties = resource.Properties ?? {};
    if (properties.Protocol !== "sqs") continue;
    const topic = [...topics.values()].find((candidate) => candidate.arn === resolve(properties.TopicArn));
    const queue = [...queues.values()].find((candidate) => candidate.arn === resolve(properties.Endpoint));
    if (!topic || !queue) continue;
    const raw = resolve(properties.RawMessageDelivery) === "true";
    server.subscribe({
      topic: topic.name,
      queue: queue.name,
      attributes: { RawMessageDelivery: String(raw) },
    });
  }
  const kept = await releaseKeptMessages(server, client, queues.values());
  client.destroy();
  return {
    server,
    endpoint,
    region,
    queues,
    topics,
    resolveResource,
    kept,
    sdkEnvironment: {
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_ENDPOINT_URL_SNS: endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
    },
    stop: () => server.stop(),
  };
}

/**
 * The kept messages, and those that were in flight when the last run stopped made visible again: the
 * invocation that held them is gone with that run, so they are delivered now rather than after their
 * visibility timeout. In one second, not at once: fauxqs 2.4.1's persistence fails a visibility timeout
 * of 0 (it writes NULL into a NOT NULL column after taking the message off the in-flight list: it is lost).
 */
async function releaseKeptMessages(
  server: FauxqsServer,
  client: SQSClient,
  queues: Iterable<LocalQueue>,
): Promise<LocalCloud["kept"]> {
  let messages = 0;
  let wereInFlight = 0;
  for (const queue of queues) {
    const inspected = server.inspectQueue(queue.name);
    if (!inspected) continue;
    const { ready, delayed, inflight } = inspected.messages;
    messages += ready.length + delayed.length + inflight.length;
    wereInFlight += inflight.length;
    for (let start = 0; start < inflight.length; start += 10) {
      await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queue.url,
          Entries: inflight.slice(start, start + 10).map((held, i) => ({
            Id: `r${i}`,
            ReceiptHandle: held.receiptHandle,
            VisibilityTimeout: 1,
          })),
        }),
      );
    }
  }
  return { messages, wereInFlight };
}
