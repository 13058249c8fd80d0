import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InvocationResult } from "../runtime/function-worker.ts";
import type { CapturedInvocation } from "../runtime/warm-environments.ts";
import { lambdaInvokeApi, type ApiInvocation } from "./lambda-invoke-api.ts";

// The HTTP protocol alone, over a real socket, with a function whose outcome each test picks (the whole
// start-lambda, with the built function and LambdaClient, is start-lambda.int.test.ts).
let outcome: InvocationResult = { status: "ok", response: null };
const events: unknown[] = [];
const invocations: ApiInvocation[] = [];
let server: Server;
let base: string;

function invoke(event: unknown): Promise<CapturedInvocation> {
  events.push(event);
  const report = {
    requestId: "6f1f6b7e-0000-4000-8000-000000000001",
    result: outcome,
    durationMs: 1,
    initDurationMs: undefined,
    maxMemoryUsedMb: 1,
    memorySizeMb: 128,
  };
  return Promise.resolve({ report, logs: "a log line\n" });
}

beforeAll(async () => {
  server = createServer(
    lambdaInvokeApi({
      functions: new Map([["EntityFunction", { timeoutSeconds: 30, invoke }]]),
      region: "eu-west-1",
      onInvocation: (invocation) => invocations.push(invocation),
      onError: (error) => {
        throw error;
      },
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/2015-03-31/functions`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/${path}`, { method: "POST", body, headers });
}

describe("the Lambda Invoke API over HTTP", () => {
  it("answers a RequestResponse invocation with the function's response, by name or ARN", async () => {
    outcome = { status: "ok", response: { batchItemFailures: [] } };
    for (const name of ["EntityFunction", "arn:aws:lambda:eu-west-1:123456789012:function:EntityFunction"]) {
      const answer = await post(`${encodeURIComponent(name)}/invocations?Qualifier=$LATEST`, '{"k":1}', {
        "X-Amz-Log-Type": "Tail",
      });
      expect(answer.status).toBe(200);
      expect(answer.headers.get("x-amz-function-error")).toBeNull();
      expect(answer.headers.get("x-amz-executed-version")).toBe("$LATEST");
      expect(Buffer.from(answer.headers.get("x-amz-log-result")!, "base64").toString()).toBe("a log line\n");
      expect(await answer.json()).toEqual({ batchItemFailures: [] });
    }
    expect(events.at(-1)).toEqual({ k: 1 });
    expect(invocations.at(-1)).toMatchObject({
      functionName: "EntityFunction",
      invocationType: "RequestResponse",
    });
  });

  it("reports a function's error and a timeout with X-Amz-Function-Error: Unhandled", async () => {
    outcome = { status: "error", error: { errorType: "TypeError", errorMessage: "boom", trace: ["at x"] } };
    let answer = await post("EntityFunction/invocations", "{}");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await answer.json()).toEqual({ errorType: "TypeError", errorMessage: "boom", trace: ["at x"] });

    outcome = { status: "timeout" };
    answer = await post("EntityFunction/invocations", "{}");
    expect(answer.headers.get("x-amz-function-error")).toBe("Unhandled");
    expect(await answer.json()).toEqual({
      errorType: "Sandbox.Timedout",
      errorMessage:
        "RequestId: 6f1f6b7e-0000-4000-8000-000000000001 Error: Task timed out after 30.00 seconds",
    });
  });

  it("accepts Event (202) and DryRun (204); an empty payload is {}", async () => {
    outcome = { status: "ok", response: null };
    const before = events.length;
    expect((await post("EntityFunction/invocations", "", { "X-Amz-Invocation-Type": "DryRun" })).status).toBe(
      204,
    );
    expect(events.length).toBe(before);
    const accepted = await post("EntityFunction/invocations", "", { "X-Amz-Invocation-Type": "Event" });
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe("");
    await expect.poll(() => invocations.at(-1)?.invocationType).toBe("Event");
    expect(events.at(-1)).toEqual({});
  });

  it("refuses as Lambda does: unknown function or qualifier, a payload that is not JSON, a bad invocation type", async () => {
    const cases: [Response, number, string, RegExp][] = [
      [
        await post("Nope/invocations", "{}"),
        404,
        "ResourceNotFoundException",
        /^Function not found: arn:aws:lambda:eu-west-1:123456789012:function:Nope$/,
      ],
      [
        await post("EntityFunction/invocations?Qualifier=live", "{}"),
        404,
        "ResourceNotFoundException",
        /function:EntityFunction:live$/,
      ],
      [
        await post("EntityFunction/invocations", "{not json"),
        400,
        "InvalidRequestContentException",
        /^Could not parse request body into json/,
      ],
      [
        await post("EntityFunction/invocations", "{}", { "X-Amz-Invocation-Type": "Later" }),
        400,
        "InvalidParameterValueException",
        /not 'Later'/,
      ],
      [
        await post("EntityFunction/invocations", "x".repeat(6 * 1024 * 1024 + 1)),
        413,
        "RequestTooLargeException",
        /smaller than 6291456 bytes/,
      ],
    ];
    for (const [answer, status, type, message] of cases) {
      expect(answer.status).toBe(status);
      expect(answer.headers.get("x-amzn-errortype")).toBe(type);
      expect(((await answer.json()) as { Message: string }).Message).toMatch(message);
    }
  });
});
