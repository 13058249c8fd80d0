import { positiveSeconds, wholeNumber } from "../cli/args.ts";
import { debugPort, describeInspector } from "../cli/debugger.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { functionLogs } from "../cli/print-invocation.ts";
import { printBatch, printFlowReady, printScheduledRun } from "../cli/print-flow.ts";
import { removeUpState, writeUpState } from "../local-aws/cloud/state.ts";
import { startLocalFlow } from "../local-aws/flow.ts";
import { consolePortFlag, FlowMonitor, openConsole, teeLogs } from "../console/index.ts";
import { linkSession, servedDatabase, topicPublisher } from "../session-link/work.ts";

export const UP_SPEC = {
  name: "up",
  synopsis: "up [FunctionLogicalId] [options]",
  description: `The local cloud: starts an SNS/SQS emulator (fauxqs) in this process, creates the template's topic,
queues, dead-letter queue, subscription and redrive policy, and runs a local event-source mapping for the
function: long-polls with the template's BatchSize and batching window, invokes the built function in warm
execution environments (MaximumConcurrency of them), deletes what succeeded and leaves failures to come
back after the visibility timeout, to the DLQ after maxReceiveCount. Shows each batch as it happens, and
in the browser: the local console (its URL is printed at start) shows the flow live, with a publish box.
From another terminal: \`devrunner publish KEY...\`, \`devrunner dlq [--redrive]\`. Ctrl-C stops it.`,
  flags: [
    "port",
    "visibility-timeout",
    "schedule-period",
    ...FUNCTION_FLAGS,
    "inspect",
    "console-port",
    "no-console",
  ],
  exitCodes: "Exit codes: 0 stopped with Ctrl-C, 2 bad usage, 3 production refused.",
} as const satisfies CommandSpec<
  | "port"
  | "visibility-timeout"
  | "schedule-period"
  | (typeof FUNCTION_FLAGS)[number]
  | "inspect"
  | "console-port"
  | "no-console"
>;

export function upCommand(argv: readonly string[]): Promise<number> {
  return runCommand(UP_SPEC, argv, async (values, positionals) => {
    const port = wholeNumber("--port", values.port);
    const browserPort = consolePortFlag(values);
    const visibility = values["visibility-timeout"];
    const period = values["schedule-period"];
    const request = resolveFunctionRequest("up", values, positionals);
    const inspect = values.inspect === undefined ? undefined : debugPort("--inspect", values.inspect);
    const monitor = browserPort === null ? undefined : new FlowMonitor();
    const flow = await startLocalFlow({
      ...request,
      port,
      visibilityTimeoutSeconds:
        visibility === undefined ? undefined : wholeNumber("--visibility-timeout", visibility),
      ...(period === undefined
        ? {}
        : { schedulePeriodMs: positiveSeconds("--schedule-period", period) * 1000 }),
      logSink: teeLogs(functionLogs, monitor),
      onInvoke: monitor?.invocationStarted,
      onBatch: (outcome) => {
        printBatch(outcome, flow.maxReceiveCount);
        monitor?.batchDone(outcome);
      },
      onError: (error) => process.stderr.write(`event-source mapping: ${(error as Error).message}\n`),
      onScheduledRun: printScheduledRun,
      note: (text) => void process.stderr.write(`${text}\n`),
      ...(inspect === undefined
        ? {}
        : {
            inspector: {
              port: inspect,
              onListening: (event, logicalId) =>
                void process.stderr.write(`${describeInspector(event, logicalId)}\n`),
            },
          }),
    });
    const browserConsole = monitor && (await openConsole(flow, monitor, browserPort ?? undefined));
    writeUpState(request.config.stateFile, flow.upState(process.pid));
    if (browserConsole) process.stdout.write(`console ${browserConsole.url}\n`);
    const embedded = flow.prepared.embedded;
    const link = await linkSession(request.config, {
      ...(embedded ? { database: servedDatabase(embedded, request.dataDir) } : {}),
      publish: topicPublisher(flow.upState(process.pid)),
    });
    printFlowReady(flow);
    await new Promise<void>((resolveStop) => {
      process.once("SIGINT", resolveStop);
      process.once("SIGTERM", resolveStop);
    });
    process.stdout.write("stopping\n");
    removeUpState(request.config.stateFile);
    await browserConsole?.stop();
    await link?.close();
    await flow.stop();
    return 0;
  });
}
