import { SQSClient } from "@aws-sdk/client-sqs";
import { startFauxqs, type FauxqsServer } from "fauxqs";

export const TEST_REGION = "us-east-1";

export type { FauxqsServer };

export interface TestSqsEmulator {
  readonly server: FauxqsServer;
  readonly endpoint: string;
  readonly client: SQSClient;
}

/** fauxqs in-process on a free (or given) port, and an SQS client pointed at it explicitly. */
export async function startTestFauxqs(port = 0): Promise<TestSqsEmulator> {
  const server = await startFauxqs({ port, logger: false, defaultRegion: TEST_REGION });
  // Explicit endpoint: fauxqs's queue URLs use the host sqs.REGION.localhost, which need not resolve.
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 2,
  });
  return { server, endpoint, client };
}

/** Bodies of the messages waiting in a queue, parsed, without consuming them. */
export function queuedBodies<T>(server: FauxqsServer, queueName: string): T[] {
  const queue = server.inspectQueue(queueName);
  if (!queue) return [];
  return [...queue.messages.ready, ...queue.messages.inflight.map((entry) => entry.message)].map(
    (message) => JSON.parse(message.body) as T,
  );
}
