import {
  ChangeMessageVisibilityBatchCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  EMULATOR_REGION,
  emulatorSqsClient,
  startSqsEmulator,
  type FauxqsServer,
} from "@entity/adapters/sqs-emulator";
import { LocalAwsError } from "../errors.ts";
import { resolveTemplateValue, type SamTemplate } from "../template/sam-template.ts";

/** An SQS client for the local emulator (explicit endpoint: its queue URLs name a host that need not resolve). */
export const localSqsClient = emulatorSqsClient;

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
  /** Default EMULATOR_REGION (us-east-1). */
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
  const port = options.port ?? 0;
  const { server, endpoint, region } = await startSqsEmulator({
    port,
    region: options.region ?? EMULATOR_REGION,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new LocalAwsError(
      "EMULATOR_PORT_IN_USE",
      `the emulator's port ${port} is in use (another \`devrunner up\`, or LocalStack?): pick another --port (0 picks a free one)`,
      { cause: error },
    );
  });
  const client = localSqsClient(endpoint, region);
  const queues = new Map<string, LocalQueue>();
  const topics = new Map<string, LocalTopic>();
  const resolveResource = resourceResolver(queues, topics);
  const resolve: Resolve = (value) =>
    resolveTemplateValue(value, { "AWS::Region": region }, template, resolveResource);
  const resources = Object.entries(template.resources);
  const kept = { client, endpoint };
  await createQueues(server, resources, resolve, options.visibilityTimeoutSeconds, queues, kept);
  createTopics(server, resources, resolve, topics);
  subscribeQueues(server, resources, resolve, { queues, topics });
  const keptMessages = await releaseKeptMessages(server, client, queues.values());
  client.destroy();
  return {
    server,
    endpoint,
    region,
    queues,
    topics,
    resolveResource,
    sdkEnvironment: sdkEnvironmentFor(endpoint, region),
    kept: keptMessages,
    stop: () => server.stop(),
  };
}

type LocalTopic = { readonly name: string; readonly arn: string };
type Resources = readonly [string, SamTemplate["resources"][string]][];
type Resolve = (value: unknown) => string | undefined;

/** `Ref` / `Fn::GetAtt` of the queues and topics created so far (the maps fill in as they are created). */
function resourceResolver(
  queues: ReadonlyMap<string, LocalQueue>,
  topics: ReadonlyMap<string, LocalTopic>,
): LocalCloud["resolveResource"] {
  return (logicalId, attribute) => {
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
}

async function createQueues(
  server: FauxqsServer,
  resources: Resources,
  resolve: Resolve,
  visibilityTimeoutSeconds: number | undefined,
  queues: Map<string, LocalQueue>,
  kept: { client: SQSClient; endpoint: string },
): Promise<void> {
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
    const attributes = queueAttributes(properties, resolve, fifo, visibilityTimeoutSeconds);
    const existing = server.inspectQueue(name);
    if (existing) {
      // Kept from the last run: creating it again would drop its messages; the template's attributes
      // (or --visibility-timeout) may have changed since.
      const url = existing.url.replace(/^https?:\/\/[^/]+/, kept.endpoint);
      const { FifoQueue: _fifo, ...settable } = attributes;
      await kept.client.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: settable }));
      queues.set(logicalId, { logicalId, name, url, arn: existing.arn });
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
}

function queueAttributes(
  properties: Record<string, unknown>,
  resolve: Resolve,
  fifo: boolean,
  visibilityTimeoutSeconds: number | undefined,
): Record<string, string> {
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
  if (visibilityTimeoutSeconds !== undefined) attributes.VisibilityTimeout = String(visibilityTimeoutSeconds);
  if (fifo) attributes.FifoQueue = "true";
  const redrive = properties.RedrivePolicy as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  if (redrive) {
    attributes.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: resolve(redrive.deadLetterTargetArn),
      maxReceiveCount: Number(resolve(redrive.maxReceiveCount) ?? 10),
    });
  }
  return attributes;
}

function createTopics(
  server: FauxqsServer,
  resources: Resources,
  resolve: Resolve,
  topics: Map<string, LocalTopic>,
): void {
  for (const [logicalId, resource] of resources.filter(([, r]) => r.Type === "AWS::SNS::Topic")) {
    const name = resolve(resource.Properties?.TopicName) ?? logicalId;
    topics.set(logicalId, { name, arn: server.createTopic(name).topicArn });
  }
}

/** The template's SNS -> SQS subscriptions (other protocols, and ends it does not create, are skipped). */
function subscribeQueues(
  server: FauxqsServer,
  resources: Resources,
  resolve: Resolve,
  created: { queues: ReadonlyMap<string, LocalQueue>; topics: ReadonlyMap<string, LocalTopic> },
): void {
  for (const [, resource] of resources.filter(([, r]) => r.Type === "AWS::SNS::Subscription")) {
    const properties = resource.Properties ?? {};
    if (properties.Protocol !== "sqs") continue;
    const topicArn = resolve(properties.TopicArn);
    const queueArn = resolve(properties.Endpoint);
    const topic = [...created.topics.values()].find((candidate) => candidate.arn === topicArn);
    const queue = [...created.queues.values()].find((candidate) => candidate.arn === queueArn);
    if (!topic || !queue) continue;
    const raw = resolve(properties.RawMessageDelivery) === "true";
    server.subscribe({
      topic: topic.name,
      queue: queue.name,
      attributes: { RawMessageDelivery: String(raw) },
    });
  }
}

function sdkEnvironmentFor(endpoint: string, region: string): Readonly<Record<string, string>> {
  return {
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_SNS: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
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
