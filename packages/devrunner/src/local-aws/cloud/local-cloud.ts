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
  readonly stop: () => Promise<void>;
}

export interface LocalCloudOptions {
  readonly port?: number;
  /** Default EMULATOR_REGION (us-east-1). */
  readonly region?: string;
  /** Replaces every queue's VisibilityTimeout, so failed records come back sooner in local runs. */
  readonly visibilityTimeoutSeconds?: number;
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
  }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    throw new LocalAwsError(
      "EMULATOR_PORT_IN_USE",
      `the emulator's port ${port} is in use (another \`devrunner up\`, or LocalStack?): pick another --port (0 picks a free one)`,
      { cause: error },
    );
  });
  const queues = new Map<string, LocalQueue>();
  const topics = new Map<string, LocalTopic>();
  const resolveResource = resourceResolver(queues, topics);
  const resolve: Resolve = (value) =>
    resolveTemplateValue(value, { "AWS::Region": region }, template, resolveResource);
  const resources = Object.entries(template.resources);
  createQueues(server, resources, resolve, options.visibilityTimeoutSeconds, queues);
  createTopics(server, resources, resolve, topics);
  subscribeQueues(server, resources, resolve, { queues, topics });
  return {
    server,
    endpoint,
    region,
    queues,
    topics,
    resolveResource,
    sdkEnvironment: sdkEnvironmentFor(endpoint, region),
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

function createQueues(
  server: FauxqsServer,
  resources: Resources,
  resolve: Resolve,
  visibilityTimeoutSeconds: number | undefined,
  queues: Map<string, LocalQueue>,
): void {
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
    const created = server.createQueue(name, {
      attributes: queueAttributes(properties, resolve, fifo, visibilityTimeoutSeconds),
    });
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
