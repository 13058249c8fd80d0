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
    refuseRequest: foreignRequest,
  });
  return { server, endpoint: `http://127.0.0.1:${server.port}`, region };
}

/**
 * Why a request did not come from this machine's own tools, if it did not. Listening on 127.0.0.1 keeps
 * the network out, not a web page: a page may send a form POST (`Action=Publish...`) to 127.0.0.1 with no
 * preflight, or reach it under its own name through DNS rebinding. The SDKs send no Origin and a local
 * Host (the endpoint's, or a queue URL's `sqs.REGION.localhost`); a browser always names the page.
 */
export function foreignRequest(request: {
  headers: Record<string, string | string[] | undefined>;
}): string | undefined {
  const host = String(request.headers.host ?? "");
  if (!isLocalHostName(host.replace(/:\d+$/, "")))
    return `refused: Host '${host}' is not this machine (the local emulator answers local tools only)`;
  const origin = request.headers.origin;
  if (origin !== undefined && !isLocalOrigin(String(origin)))
    return `refused: a request from the web page '${String(origin)}' (the local emulator answers local tools only)`;
  return undefined;
}

function isLocalHostName(name: string): boolean {
  const host = name.toLowerCase();
  return host === "127.0.0.1" || host === "[::1]" || host === "localhost" || host.endsWith(".localhost");
}

function isLocalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      isLocalHostName(url.hostname === "::1" ? "[::1]" : url.hostname)
    );
  } catch {
    return false;
  }
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
