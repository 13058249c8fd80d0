import { portNumber, positiveSeconds, visibilityTimeoutSeconds } from "../cli/args.ts";
import { debugPort, describeInspector } from "../cli/debugger.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { functionLogs } from "../cli/print-invocation.ts";
import { withSamConfig } from "../cli/sam-options.ts";
import { printBatch, printFlowReady, printReload, printScheduledRun } from "../cli/print-flow.ts";
import { untilStopped } from "../cli/signals.ts";
import { removeUpState, writeUpState } from "../local-aws/cloud/state.ts";
import { startLocalFlow } from "../local-aws/flow.ts";
import { consolePortFlag, FlowMonitor, openConsole, teeLogs } from "../console/index.ts";
import { linkedInvoker, startedFunction } from "../session-link/invoke.ts";
import { linkSession, servedDatabase, topicPublisher } from "../session-link/work.ts";

const UP_FLAGS = [
  "port",
  "visibility-timeout",
  "schedule-period",
  ...FUNCTION_FLAGS,
  "inspect",
  "console-port",
  "no-console",
  "fresh",
  "no-reload",
] as const;

export const UP_SPEC = {
  name: "up",
  synopsis: "up [FunctionLogicalId] [options]",
  description: `The local cloud: starts an SNS/SQS emulator (fauxqs) in this process, creates the template's topic,
queues, dead-letter queue, subscription and redrive policy, and runs a local event-source mapping for the
function: long-polls with the template's BatchSize and batching window, invokes the built function in warm
execution environments (MaximumConcurrency of them), deletes what succeeded and leaves failures to come
back after the visibility timeout, to the DLQ after maxReceiveCount. Shows each batch as it happens, and
in the browser: the local console (its URL is printed at start) shows the flow live, with a publish box.
From another terminal: \`devrunner publish KEY...\`, \`devrunner dlq [--redrive]\`.
Ctrl-C stops it within about 2 s: running invocations get 1 s, then their environments are killed. The
queues keep their messages until the next \`up\` (in .devrunner/local-cloud; --fresh starts empty), and
what was in flight is delivered again then. A change to the function's sources rebuilds it and replaces
its warm environments: running invocations finish on the old code, the next message runs the new code; a
build error is printed and the old code keeps serving (--no-reload turns this off).`,
  flags: UP_FLAGS,
  positionals: 1,
  exitCodes: "Exit codes: 0 stopped with Ctrl-C, 2 bad usage (or the port is taken), 3 production refused.",
} as const satisfies CommandSpec<(typeof UP_FLAGS)[number]>;

export function upCommand(argv: readonly string[]): Promise<number> {
  // samconfig.toml as \`sam local start-lambda\` reads it: its region, env-vars, parameter overrides.
  const withConfig = withSamConfig(UP_SPEC, "local_start_lambda", argv, process.env);
  return runCommand(UP_SPEC, withConfig, async (values, positionals) => {
    const port = portNumber("--port", values.port);
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
        visibility === undefined ? undefined : visibilityTimeoutSeconds("--visibility-timeout", visibility),
      ...(period === undefined
        ? {}
        : { schedulePeriodMs: positiveSeconds("--schedule-period", period) * 1000 }),
      logSink: teeLogs(functionLogs, monitor),
      onInvoke: monitor?.invocationStarted,
      onBatch: (outcome) => {
        printBatch(outcome, flow);
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
      keepMessagesIn: request.config.localCloudDir,
      fresh: values.fresh,
      hotReload: !values["no-reload"],
      onReload: printReload,
    });
    const browserConsole = monitor && (await openConsole(flow, monitor, browserPort ?? undefined));
    writeUpState(request.config.stateFile, flow.upState(process.pid));
    if (browserConsole) process.stdout.write(`console ${browserConsole.url}\n`);
    const embedded = flow.prepared.embedded;
    const link = await linkSession(request.config, {
      ...(embedded ? { database: servedDatabase(embedded, request.dataDir) } : {}),
      publish: topicPublisher(flow.upState(process.pid)),
      invoke: linkedInvoker(startedFunction(flow.prepared, request)),
    });
    printFlowReady(flow);
    await untilStopped();
    // A second Ctrl-C does not wait for anything.
    process.once("SIGINT", () => process.exit(130));
    process.stdout.write("stopping\n");
    removeUpState(request.config.stateFile);
    await browserConsole?.stop();
    await link?.close();
    const { interruptedInvocations, interruptedRecords } = await flow.stop();
    if (interruptedInvocations > 0)
      process.stdout.write(
        `stopped ${interruptedInvocations} invocation(s) still running after 1 s; their ${interruptedRecords} record(s) are delivered again on the next \`up\`\n`,
      );
    return 0;
  });
}
