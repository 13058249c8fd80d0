import { portNumber, positiveSeconds, visibilityTimeoutSeconds } from "../cli/args.ts";
import { debugPort } from "../cli/debugger.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { printFlowReady } from "../cli/print-flow.ts";
import { withSamConfig } from "../cli/sam-options.ts";
import { untilStopped } from "../cli/signals.ts";
import { serveFlow, stopUp, upFlowOptions } from "../cli/up-session.ts";
import { consolePortFlag, FlowMonitor } from "../console/index.ts";
import { startLocalFlow, type LocalFlow } from "../local-aws/flow.ts";

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
    const consolePort = consolePortFlag(values);
    const visibility = values["visibility-timeout"];
    const period = values["schedule-period"];
    const settings = {
      port: portNumber("--port", values.port),
      visibilityTimeoutSeconds:
        visibility === undefined ? undefined : visibilityTimeoutSeconds("--visibility-timeout", visibility),
      schedulePeriodMs:
        period === undefined ? undefined : positiveSeconds("--schedule-period", period) * 1000,
      inspectPort: values.inspect === undefined ? undefined : debugPort("--inspect", values.inspect),
      fresh: values.fresh,
      hotReload: !values["no-reload"],
    };
    const request = resolveFunctionRequest("up", values, positionals);
    const monitor = consolePort === null ? undefined : new FlowMonitor();
    const flow: LocalFlow = await startLocalFlow(upFlowOptions(request, settings, monitor, () => flow));
    const companions = await serveFlow(flow, request, monitor, consolePort ?? undefined);
    printFlowReady(flow);
    await untilStopped();
    await stopUp(flow, request, companions);
    return 0;
  });
}
