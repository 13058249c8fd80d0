import { readJsonFile } from "../cli/args.ts";
import { debugPort, describeInspector } from "../cli/debugger.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import { createOutput } from "../cli/output.ts";
import { userPath } from "../cli/paths.ts";
import { functionLogs, printInvocation } from "../cli/print-invocation.ts";
import { invokeFunction } from "../local-aws/invoke.ts";

export const INVOKE_SPEC = {
  name: "invoke",
  synopsis: "invoke [FunctionLogicalId] --event FILE|- [--env-vars FILE] [options]",
  description: `Runs the built function (the artifact you deploy, rebuilt first when a source changed) on an event, as
\`sam local invoke\` does, without Docker: same arguments, same env-vars file format.

Variables set in the env-vars file but not declared in the template are dropped (with a warning).
Without a database in the environment or the env-vars file, the function gets the embedded database
(PGlite served on 127.0.0.1); template queues it needs are created in an in-process SQS emulator.
The response goes to stdout; the function's logs and the REPORT line to stderr.`,
  flags: ["event", ...FUNCTION_FLAGS, "json", "debug-port"],
  positionals: 1,
  flagHelp: {
    "allow-prod":
      "allow a production ENV (from the environment, the template's defaults, --parameter-overrides or the env-vars file)",
    json: "{response, report} as one JSON document",
  },
  exitCodes:
    "Exit codes: 0 the function returned, 1 it threw, failed to init or timed out, 2 bad usage, 3 production refused.",
} as const satisfies CommandSpec<"event" | (typeof FUNCTION_FLAGS)[number] | "json" | "debug-port">;

export function invokeCommand(argv: readonly string[]): Promise<number> {
  return runCommand(INVOKE_SPEC, argv, async (values, positionals) => {
    const request = resolveFunctionRequest("invoke", values, positionals);
    recordLastCommand("invoke", argv);
    const output = createOutput(values.json);
    const eventPath =
      values.event === undefined || values.event === "-" ? values.event : userPath(values.event);
    const event = eventPath ? readJsonFile(eventPath, "event") : {};
    const port =
      values["debug-port"] === undefined ? undefined : debugPort("--debug-port", values["debug-port"]);
    const { report, prepared } = await invokeFunction({
      ...request,
      event,
      note: output.note,
      logSink: functionLogs,
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
