// The Lambda Invoke API over HTTP (`sam local start-lambda`): POST /2015-03-31/functions/{name}/invocations
// with Lambda's headers, status codes and error shapes, so the AWS SDK's LambdaClient and the AWS CLI work
// against it with an endpoint override.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InvocationReport } from "../runtime/function-worker.ts";
import type { CapturedInvocation } from "../runtime/warm-environments.ts";

/** A function the API can invoke, by its logical id (the FunctionName clients use, as with SAM). */
export interface InvokableFunction {
  readonly timeoutSeconds: number;
  invoke(event: unknown): Promise<CapturedInvocation>;
}

export type InvocationType = "RequestResponse" | "Event";

/** One invocation the API ran (an Event one once it finished). */
export interface ApiInvocation {
  readonly functionName: string;
  readonly invocationType: InvocationType;
  readonly report: InvocationReport;
}

export interface InvokeApiOptions {
  readonly functions: ReadonlyMap<string, InvokableFunction>;
  readonly region: string;
  readonly onInvocation: (invocation: ApiInvocation) => void;
  /** An Event invocation that could not run at all (its report says how a run failed). */
  readonly onError: (error: unknown) => void;
}

const ACCOUNT = "123456789012";
const INVOCATIONS = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;
// A name, a partial ARN (123456789012:function:Name) or an ARN, with an optional :qualifier.
const FUNCTION_NAME =
  /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([A-Za-z0-9_-]+)(?::([$A-Za-z0-9_-]+))?$/;
// Lambda's payload quotas: 6 MB for a synchronous invocation, 1 MB for an asynchronous one.
const PAYLOAD_LIMIT: Readonly<Record<InvocationType, number>> = {
  RequestResponse: 6 * 1024 * 1024,
  Event: 1024 * 1024,
};

/** The request listener of the Invoke API's HTTP server. */
export function lambdaInvokeApi(
  options: InvokeApiOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      if (!response.headersSent) serviceError(response, 500, "ServiceException", (error as Error).message);
      else response.destroy();
    });
  };
}

async function handle(
  options: InvokeApiOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? "/", "http://localhost");
  const route = INVOCATIONS.exec(url.pathname);
  if (request.method !== "POST" || !route)
    return serviceError(
      response,
      404,
      "UnknownOperationException",
      `no Lambda operation at ${request.method} ${url.pathname} (only Invoke: POST /2015-03-31/functions/{FunctionName}/invocations)`,
    );
  const requested = decodeURIComponent(route[1]!);
  const [, name, qualifier = url.searchParams.get("Qualifier") ?? "$LATEST"] =
    FUNCTION_NAME.exec(requested) ?? [];
  const found = name === undefined ? undefined : options.functions.get(name);
  if (!found || qualifier !== "$LATEST") {
    const arn = `arn:aws:lambda:${options.region}:${ACCOUNT}:function:${name ?? requested}${qualifier === "$LATEST" ? "" : `:${qualifier}`}`;
    return serviceError(response, 404, "ResourceNotFoundException", `Function not found: ${arn}`);
  }
  const invocationType = request.headers["x-amz-invocation-type"] ?? "RequestResponse";
  if (invocationType === "DryRun") return void response.writeHead(204, lambdaHeaders()).end();
  if (invocationType !== "RequestResponse" && invocationType !== "Event")
    return serviceError(
      response,
      400,
      "InvalidParameterValueException",
      `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not '${String(invocationType)}'`,
    );
  const body = await readBody(request, PAYLOAD_LIMIT[invocationType]);
  if (body === "too large")
    return serviceError(
      response,
      413,
      "RequestTooLargeException",
      `Request must be smaller than ${PAYLOAD_LIMIT[invocationType]} bytes for the Invoke operation`,
    );
  let event: unknown;
  try {
    event = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch (error) {
    return serviceError(
      response,
      400,
      "InvalidRequestContentException",
      `Could not parse request body into json: ${(error as Error).message}`,
    );
  }
  const ran = (captured: CapturedInvocation): CapturedInvocation => {
    options.onInvocation({ functionName: name!, invocationType, report: captured.report });
    return captured;
  };
  if (invocationType === "Event") {
    // Accepted, then run on a warm environment; Lambda's retries of a failed asynchronous run are not.
    response.writeHead(202, lambdaHeaders()).end();
    found.invoke(event).then(ran, options.onError);
    return;
  }
  const captured = ran(await found.invoke(event));
  respond(response, captured, found.timeoutSeconds, request.headers["x-amz-log-type"] === "Tail");
}

/** A synchronous invocation's answer: 200 and the function's response, or its error with X-Amz-Function-Error. */
function respond(
  response: ServerResponse,
  captured: CapturedInvocation,
  timeoutSeconds: number,
  tail: boolean,
): void {
  const { report } = captured;
  const { result } = report;
  const headers: Record<string, string> = {
    ...lambdaHeaders(report.requestId),
    "content-type": "application/json",
  };
  // Lambda's LogResult: the last 4 KB of the invocation's log, base64.
  if (tail) headers["x-amz-log-result"] = Buffer.from(captured.logs).subarray(-4096).toString("base64");
  if (result.status !== "ok") headers["x-amz-function-error"] = "Unhandled";
  const payload =
    result.status === "ok"
      ? (result.response ?? null)
      : result.status === "error"
        ? result.error
        : {
            errorType: "Sandbox.Timedout",
            errorMessage: `RequestId: ${report.requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
          };
  response.writeHead(200, headers).end(JSON.stringify(payload));
}

function lambdaHeaders(requestId: string = randomUUID()): Record<string, string> {
  return { "x-amzn-requestid": requestId, "x-amz-executed-version": "$LATEST" };
}

/** Lambda's error answer: the type in x-amzn-ErrorType (what the SDK reads) and a JSON body with its message. */
function serviceError(response: ServerResponse, status: number, type: string, message: string): void {
  response
    .writeHead(status, {
      "content-type": "application/json",
      "x-amzn-errortype": type,
      "x-amzn-requestid": randomUUID(),
    })
    .end(JSON.stringify({ Type: "User", Message: message }));
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | "too large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      request.resume(); // the rest is read and dropped: the client gets the answer, not a reset
      return "too large";
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
