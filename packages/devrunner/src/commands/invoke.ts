import { readJsonFile } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import { debugPort, describeInspector } from "../cli/debugger.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import { createOutput } from "../cli/output.ts";
import { userPath } from "../cli/paths.ts";
import { functionLogs, logFileSink, printInvocation } from "../cli/print-invocation.ts";
import { DOCKER_ONLY_FLAGS, dockerOnlyNote, withSamConfig } from "../cli/sam-options.ts";
import { invokeFunction } from "../local-aws/invoke.ts";

export const INVOKE_SPEC = {
  name: "invoke",
  synopsis: "invoke [FunctionLogicalId] --event FILE|- [--env-vars FILE] [options]",
  description: `Runs the built function (the artifact you deploy, rebuilt first when a source changed) on an event, as
\`sam local invoke\` does, without Docker: same arguments, same env-vars file format, the same samconfig.toml
(\`[default.local_invoke.parameters]\`); SAM's Docker options are accepted and change nothing.

Variables set in the env-vars file but not declared in the template are dropped (with a warning).
Without a database in the environment or the env-vars file, the function gets the embedded database
(PGlite served on 127.0.0.1); template queues it needs are created in an in-process SQS emulator.
The response goes to stdout; the function's logs, with Lambda's START, END and REPORT lines, to stderr.
On a timeout, as SAM: nothing on stdout, "Function '<id>' timed out after N seconds", exit 0.`,
  flags: [
    "event",
    ...FUNCTION_FLAGS,
    "json",
    "debug-port",
    "no-event",
    "log-file",
    "config-file",
    "config-env",
    ...DOCKER_ONLY_FLAGS,
  ],
  positionals: 1,
  flagHelp: {
    "allow-prod":
      "allow a production ENV (from the environment, the template's defaults, --parameter-overrides or the env-vars file)",
    json: "{response, report} as one JSON document",
  },
  exitCodes:
    "Exit codes: 0 the function returned or timed out (as SAM), 1 it threw or failed to init (SAM exits 0: aws-sam-cli #1081), 2 bad usage, 3 production refused.",
} as const satisfies CommandSpec<
  | "event"
  | (typeof FUNCTION_FLAGS)[number]
  | "json"
  | "debug-port"
  | "no-event"
  | "log-file"
  | "config-file"
  | "config-env"
  | (typeof DOCKER_ONLY_FLAGS)[number]
>;

export function invokeCommand(argv: readonly string[]): Promise<number> {
  const withConfig = withSamConfig(INVOKE_SPEC, "local_invoke", argv, process.env);
  return runCommand(INVOKE_SPEC, withConfig, async (values, positionals) => {
    if (values["no-event"] && values.event !== undefined)
      throw new UsageError("invoke: --event and --no-event both given: one or the other");
    const request = resolveFunctionRequest("invoke", values, positionals);
    recordLastCommand("invoke", argv);
    const output = createOutput(values.json);
    const dockerNote = dockerOnlyNote(values);
    if (dockerNote) output.note(dockerNote);
    const eventPath =
      values.event === undefined || values.event === "-" ? values.event : userPath(values.event);
    const event = eventPath ? readJsonFile(eventPath, "event") : {};
    const logFile = values["log-file"];
    const port =
      values["debug-port"] === undefined ? undefined : debugPort("--debug-port", values["debug-port"]);
    const { report, prepared } = await invokeFunction({
      ...request,
      event,
      note: output.note,
      logSink: logFile === undefined ? functionLogs : logFileSink(logFile),
      ...(port === undefined
        ? {}
        : {
            debugger: {
              port,
              onListening: (listening) =>
                output.note(describeInspector(listening, request.logicalId ?? "the function")),
            },
          }),
    });
    return printInvocation(report, prepared, output);
  });
}
