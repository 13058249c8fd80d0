// The local SQS/SNS emulator (fauxqs), as the devrunner's local cloud and the tests start it, and the one
// way to look into its queues (`@entity/adapters/sqs-emulator`; the Lambda never loads it).
import { createRequire } from "node:module";
import type * as ClientSqs from "@aws-sdk/client-sqs";
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";

// The SDK is loaded when a client is made, not with the emulator: `invoke` starts the emulator for the
// function's queues and never needs a client here (~40 ms of CPU on every run).
const require = createRequire(import.meta.url);

export type { FauxqsServer };

/** The region of the emulator's ARNs and queue URLs unless one is asked for (the local cloud's default too). */
export const EMULATOR_REGION = "us-east-1";

export interface SqsEmulator {
  readonly server: FauxqsServer;
  /** What SDK clients must use as their endpoint: its queue URLs name a host (sqs.REGION.localhost) that need not resolve. */
  readonly endpoint: string;
  readonly region: string;
}

/** fauxqs in this process on a free (or the given) port of 127.0.0.1 only, quiet. */
export async function startSqsEmulator(
  options: { port?: number; region?: string; dataDir?: string } = {},
): Promise<SqsEmulator> {
  const region = options.region ?? EMULATOR_REGION;
  const server = await startFauxqs({
    port: options.port ?? 0,
    // Local development only: not reachable from the network (fauxqs alone would listen on 0.0.0.0).
    listenHost: "127.0.0.1",
    logger: false,
    defaultRegion: region,
    // fauxqs's SQLite persistence: queues and their messages kept in this folder between runs.
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  return { server, endpoint: `http://127.0.0.1:${server.port}`, region };
}

/** An SQS client for the emulator (or a proxy in front of it): its endpoint explicit, placeholder credentials. */
export function emulatorSqsClient(
  endpoint: string,
  region: string = EMULATOR_REGION,
  options: Pick<SQSClientConfig, "maxAttempts" | "useQueueUrlAsEndpoint"> = {},
): SQSClient {
  const { SQSClient: Client } = require("@aws-sdk/client-sqs") as typeof ClientSqs;
  return new Client({
    endpoint,
    region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...options,
  });
}

export type QueuedMessage = NonNullable<
  ReturnType<FauxqsServer["inspectQueue"]>
>["messages"]["ready"][number];

/**
 * The messages now in a queue (by name), without consuming them: ready, in flight (received, not yet
 * deleted) and delayed. None when the queue does not exist.
 */
export function queuedMessages(server: FauxqsServer, queueName: string): QueuedMessage[] {
  const queue = server.inspectQueue(queueName);
  if (!queue) return [];
  return [
    ...queue.messages.ready,
    ...queue.messages.inflight.map((entry) => entry.message),
    ...queue.messages.delayed,
  ];
}

/** The bodies of `queuedMessages`. */
export function queuedBodies(server: FauxqsServer, queueName: string): string[] {
  return queuedMessages(server, queueName).map((message) => message.body);
}
