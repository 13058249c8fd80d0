// The execution environment of a local invoke: a child process that loads the built function once (the
// init phase) and runs invocations sent over IPC with a Lambda-like context. Only Node built-ins here.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

interface InvokeMessage {
  readonly type: "invoke";
  readonly requestId: string;
  readonly event: unknown;
  readonly deadline: number;
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown>;

function send(message: Record<string, unknown>): void {
  process.send?.(message);
}

function errorPayload(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  const err = error instanceof Error ? error : new Error(String(error));
  return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? "").split("\n") };
}

async function loadHandler(): Promise<Handler> {
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const spec = process.env._HANDLER ?? "index.handler";
  const dot = spec.lastIndexOf(".");
  const modulePath = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const file = [".mjs", ".js", ".cjs"]
    .map((extension) => join(taskRoot, modulePath + extension))
    .find((candidate) => existsSync(candidate));
  if (!file)
    throw Object.assign(new Error(`Cannot find module '${modulePath}' in ${taskRoot} (Handler ${spec})`), {
      name: "Runtime.ImportModuleError",
    });
  const loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const handler = loaded[exportName];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${modulePath}.${exportName} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return handler as Handler;
}

// The devrunner decides when an environment ends: a terminal's Ctrl-C reaches the whole process group,
// and the parent gives running invocations a grace before it kills them. Without the parent (it was
// killed), nothing can reach this process any more.
process.on("SIGINT", () => undefined);
process.on("disconnect", () => process.exit(0));

// The parent may start this process before it knows the function's environment (it overlaps Node's start
// with its own set-up), so the environment arrives as the first message; the init phase starts then.
const environment = await new Promise<Record<string, string>>((resolve) => {
  const onMessage = (message: { type?: string; env?: Record<string, string> }): void => {
    if (message.type !== "configure" || !message.env) return;
    process.off("message", onMessage);
    resolve(message.env);
  };
  process.on("message", onMessage);
});
for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
Object.assign(process.env, environment);
if (/--enable-source-maps/.test(environment.NODE_OPTIONS ?? "")) process.setSourceMapsEnabled(true);
if (environment.LAMBDA_TASK_ROOT) process.chdir(environment.LAMBDA_TASK_ROOT);

const initStarted = performance.now();
let handler: Handler | undefined;
try {
  handler = await loadHandler();
  send({ type: "ready", initDurationMs: performance.now() - initStarted });
} catch (error) {
  send({ type: "init-error", initDurationMs: performance.now() - initStarted, error: errorPayload(error) });
}

process.on("message", (message: InvokeMessage) => {
  if (message.type !== "invoke" || !handler) return;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? "function";
  const region = process.env.AWS_REGION ?? "us-east-1";
  const context = {
    awsRequestId: message.requestId,
    functionName,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? "128",
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME ?? `/aws/lambda/${functionName}`,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME ?? "local",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  const started = performance.now();
  handler(message.event, context).then(
    (response) =>
      send({
        type: "result",
        requestId: message.requestId,
        response: response ?? null,
        durationMs: performance.now() - started,
        maxRssKb: process.resourceUsage().maxRSS,
      }),
    (error: unknown) =>
      send({
        type: "error",
        requestId: message.requestId,
        error: errorPayload(error),
        durationMs: performance.now() - started,
        maxRssKb: process.resourceUsage().maxRSS,
      }),
  );
});
