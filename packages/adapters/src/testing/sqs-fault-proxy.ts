import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";

/** One entry of a SendMessageBatch request, as the SDK sends it (AWS JSON protocol). */
export interface SqsBatchEntry {
  readonly Id: string;
  readonly MessageBody: string;
  readonly MessageAttributes?: Readonly<Record<string, { DataType?: string; StringValue?: string }>>;
  readonly [field: string]: unknown;
}

/** How SQS answers a failed entry: `senderFault` true is permanent (the sender must change something). */
export interface SqsEntryFault {
  readonly code: string;
  readonly message: string;
  readonly senderFault: boolean;
}

export interface SqsFaultProxyCounts {
  /** SendMessageBatch requests seen, and entries answered as failed, by kind. */
  readonly batches: number;
  readonly permanentFailures: number;
  readonly transientFailures: number;
  readonly entriesPassed: number;
}

export interface SqsFaultProxy {
  /** Point the SDK here (AWS_ENDPOINT_URL_SQS). */
  readonly endpoint: string;
  counts(): SqsFaultProxyCounts;
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of an SQS emulator (fauxqs has no fault injection) that answers chosen entries of
 * SendMessageBatch requests as failed, as SQS does in its `Failed` list, and passes everything else through:
 * other entries of the same request, and every other action. `faultFor` decides each entry's fate.
 */
export async function startSqsFaultProxy(options: {
  /** The emulator's endpoint. */
  target: string;
  faultFor: (entry: SqsBatchEntry, queueUrl: string) => SqsEntryFault | undefined;
}): Promise<SqsFaultProxy> {
  const target = new URL(options.target);
  const counts = { batches: 0, permanentFailures: 0, transientFailures: 0, entriesPassed: 0 };
  const agent = new Agent({ keepAlive: true });

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const forward = (payload: Buffer): Promise<Upstream> =>
        send(agent, target, request.method ?? "POST", request.url ?? "/", request.headers, payload);
      const answer = async (): Promise<void> => {
        if (request.headers["x-amz-target"] !== "AmazonSQS.SendMessageBatch") {
          reply(response, await forward(body));
          return;
        }
        reply(response, await sendMessageBatch(body, forward));
      };
      answer().catch((error: unknown) => {
        response.statusCode = 502;
        response.end(JSON.stringify({ __type: "InternalError", message: `fault proxy: ${String(error)}` }));
      });
    });
  });

  async function sendMessageBatch(
    body: Buffer,
    forward: (payload: Buffer) => Promise<Upstream>,
  ): Promise<Upstream> {
    counts.batches += 1;
    const parsed = JSON.parse(body.toString("utf8")) as { QueueUrl: string; Entries: SqsBatchEntry[] };
    const failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    const passing: SqsBatchEntry[] = [];
    for (const entry of parsed.Entries) {
      const fault = options.faultFor(entry, parsed.QueueUrl);
      if (!fault) {
        passing.push(entry);
        continue;
      }
      if (fault.senderFault) counts.permanentFailures += 1;
      else counts.transientFailures += 1;
      failed.push({ Id: entry.Id, SenderFault: fault.senderFault, Code: fault.code, Message: fault.message });
    }
    counts.entriesPassed += passing.length;
    if (failed.length === 0) return forward(body);
    let successful: unknown[] = [];
    let upstreamFailed: unknown[] = [];
    if (passing.length > 0) {
      const upstream = await forward(Buffer.from(JSON.stringify({ ...parsed, Entries: passing })));
      // A request that failed as a whole stays failed as a whole.
      if (upstream.status !== 200) return upstream;
      const answer = JSON.parse(upstream.body.toString("utf8")) as {
        Successful?: unknown[];
        Failed?: unknown[];
      };
      successful = answer.Successful ?? [];
      upstreamFailed = answer.Failed ?? [];
    }
    return {
      status: 200,
      headers: { "content-type": "application/x-amz-json-1.0" },
      body: Buffer.from(JSON.stringify({ Successful: successful, Failed: [...upstreamFailed, ...failed] })),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("SQS fault proxy did not bind");
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    counts: () => ({ ...counts }),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
    },
  };
}

interface Upstream {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

function send(
  agent: Agent,
  target: URL,
  method: string,
  path: string,
  incoming: IncomingHttpHeaders,
  body: Buffer,
): Promise<Upstream> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    // Hop-by-hop and length headers are this proxy's to set; an uncompressed answer can be edited.
    if (["host", "connection", "content-length", "transfer-encoding", "accept-encoding"].includes(name))
      continue;
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  headers["content-length"] = String(body.length);
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method, path, headers, agent },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const answerHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(answer.headers)) {
            if (["connection", "content-length", "transfer-encoding", "keep-alive"].includes(name)) continue;
            if (value !== undefined) answerHeaders[name] = Array.isArray(value) ? value.join(", ") : value;
          }
          resolve({ status: answer.statusCode ?? 502, headers: answerHeaders, body: Buffer.concat(chunks) });
        });
        answer.on("error", reject);
      },
    );
    upstream.on("error", reject);
    upstream.end(body);
  });
}

function reply(response: ServerResponse, upstream: Upstream): void {
  response.writeHead(upstream.status, {
    ...upstream.headers,
    "content-length": String(upstream.body.length),
  });
  response.end(upstream.body);
}
