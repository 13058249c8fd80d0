// The execution environment of a local invoke: a child process that loads the built function once (the
// init phase) and runs invocations sent over IPC with a Lambda-like context, writing Lambda's START, END and
// REPORT lines around each. Only Node built-ins and modules without imports of their own here.
import { existsSync } from "node:fs";
import inspector from "node:inspector";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { endLine, megabytes, reportLine, startLine } from "./log-lines.ts";
import { invocationMarker } from "./invocation-logs.ts";

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

/** Brackets an invocation's output on both streams, so the parent knows which invocation wrote what. */
function mark(phase: "start" | "end", requestId: string): void {
  process.stdout.write(invocationMarker(phase, requestId));
  process.stderr.write(invocationMarker(phase, requestId));
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
interface ConfigureMessage {
  readonly type?: string;
  readonly env?: Record<string, string>;
  readonly inspector?: { readonly port: number; readonly wait: boolean };
}
const configuration = await new Promise<Required<Pick<ConfigureMessage, "env">> & ConfigureMessage>(
  (resolve) => {
    const onMessage = (message: ConfigureMessage): void => {
      if (message.type !== "configure" || !message.env) return;
      process.off("message", onMessage);
      resolve({ ...message, env: message.env });
    };
    process.on("message", onMessage);
  },
);
const environment = configuration.env;
for (const name of Object.keys(process.env)) if (!(name in environment)) delete process.env[name];
Object.assign(process.env, environment);
// A debugger resolves the TypeScript sources through the bundle's source maps; stack traces then name
// them too.
if (/--enable-source-maps/.test(environment.NODE_OPTIONS ?? "") || configuration.inspector)
  process.setSourceMapsEnabled(true);
if (environment.LAMBDA_TASK_ROOT) process.chdir(environment.LAMBDA_TASK_ROOT);

/**
 * Opens the inspector before the init, so breakpoints in the function's module scope bind too; with
 * `wait`, blocks until a debugger says "run" (Runtime.runIfWaitingForDebugger), as `sam local invoke -d`
 * does. A port in use is an init error when waiting (nobody could attach), a note otherwise.
 */
async function openInspector(settings: { port: number; wait: boolean }): Promise<void> {
  inspector.open(settings.port, "127.0.0.1", false);
  const url = inspector.url();
  // Sent before this process blocks: the parent tells the user where to attach.
  await new Promise<void>((resolve) =>
    process.send ? process.send({ type: "inspector", port: settings.port, url }, () => resolve()) : resolve(),
  );
  if (url && settings.wait) inspector.waitForDebugger();
  else if (!url && settings.wait)
    throw Object.assign(new Error(`the inspector cannot listen on 127.0.0.1:${settings.port} (in use?)`), {
      name: "Runtime.InspectorUnavailable",
    });
}

let initStarted = performance.now();
let handler: Handler | undefined;
try {
  if (configuration.inspector) await openInspector(configuration.inspector);
  // The time waiting for a debugger is not the function's init.
  initStarted = performance.now();
  handler = await loadHandler();
} catch (error) {
  send({ type: "init-error", initDurationMs: performance.now() - initStarted, error: errorPayload(error) });
}
// Reported once, on the first invocation (the cold start), as Lambda does.
let initDurationToReport: number | undefined = performance.now() - initStarted;
if (handler)
  send({ type: "ready", initDurationMs: initDurationToReport, maxRssKb: process.resourceUsage().maxRSS });

/** START before the handler runs, END and REPORT after it: in the function's own output, in order. */
function logLine(text: string): void {
  process.stdout.write(`${text}\n`);
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
  mark("start", message.requestId);
  logLine(startLine(message.requestId, context.functionVersion));
  const started = performance.now();
  const finish = (outcome: Record<string, unknown>): void => {
    const durationMs = performance.now() - started;
    const maxRssKb = process.resourceUsage().maxRSS;
    logLine(endLine(message.requestId));
    logLine(
      reportLine({
        requestId: message.requestId,
        durationMs,
        memorySizeMb: Number(context.memoryLimitInMB),
        maxMemoryUsedMb: megabytes(maxRssKb),
        initDurationMs: initDurationToReport,
      }),
    );
    initDurationToReport = undefined;
    mark("end", message.requestId);
    send({ ...outcome, requestId: message.requestId, durationMs, maxRssKb });
  };
  handler(message.event, context).then(
    (response) => finish({ type: "result", response: response ?? null }),
    (error: unknown) => finish({ type: "error", error: errorPayload(error) }),
  );
});
