import { portNumber } from "../cli/args.ts";
import { runCommand, type CommandSpec } from "../cli/flags.ts";
import { FUNCTION_FLAGS, resolveFunctionRequest } from "../cli/function-target.ts";
import { functionLogs } from "../cli/print-invocation.ts";
import { untilStopped } from "../cli/signals.ts";
import type { ApiInvocation } from "../local-aws/cloud/lambda-invoke-api.ts";
import { startLambdaApi } from "../local-aws/lambda-api.ts";
import { formatReport } from "../local-aws/runtime/function-worker.ts";

export const START_LAMBDA_SPEC = {
  name: "start-lambda",
  synopsis: "start-lambda [--port 3001] [options]",
  description: `The Lambda Invoke API on 127.0.0.1, like \`sam local start-lambda\`, without Docker: the AWS SDK's
LambdaClient or the AWS CLI, with the endpoint overridden, invoke the template's functions by logical id
(RequestResponse, Event, DryRun) on warm execution environments (one started at once, more as concurrent
invocations need them). EntityFunction gets its database (the embedded one unless the env-vars file names
one) and its queues as \`invoke\` gives them; its schema migration runs first.
  aws lambda invoke --endpoint-url http://127.0.0.1:3001 --function-name EntityFunction \\
    --cli-binary-format raw-in-base64-out --payload file://events/my_test_entity_a1.json out.json
The functions' logs go to stderr, a line per invocation to stdout. Ctrl-C stops it.`,
  flags: ["port", ...FUNCTION_FLAGS],
  flagHelp: { port: "the port on 127.0.0.1, default 3001 (0 picks a free one)" },
  flagDefaults: { port: "3001" },
  exitCodes: "Exit codes: 0 stopped with Ctrl-C, 2 bad usage (or the port is taken), 3 production refused.",
} as const satisfies CommandSpec<"port" | (typeof FUNCTION_FLAGS)[number]>;

export function startLambdaCommand(argv: readonly string[]): Promise<number> {
  return runCommand(START_LAMBDA_SPEC, argv, async (values, positionals) => {
    const port = portNumber("--port", values.port);
    const request = resolveFunctionRequest("start-lambda", values, positionals);
    const api = await startLambdaApi({
      ...request,
      port,
      logSink: functionLogs,
      onInvocation: printApiInvocation,
      onError: (error) => process.stderr.write(`start-lambda: ${(error as Error).message}\n`),
      note: (text) => void process.stderr.write(`${text}\n`),
    });
    process.stdout.write(
      `Lambda Invoke API on ${api.endpoint} (functions: ${api.functionNames.join(", ")})\nready: invoke with --endpoint-url ${api.endpoint}; Ctrl-C to stop\n`,
    );
    await untilStopped();
    process.stdout.write("stopping\n");
    await api.stop();
    return 0;
  });
}

function printApiInvocation({ functionName, invocationType, report }: ApiInvocation): void {
  const { result } = report;
  const outcome = result.status === "error" ? `error ${result.error.errorType}` : result.status;
  process.stdout.write(
    `${functionName} ${invocationType}: ${outcome}  (${formatReport(report).replace(/\t/g, "  ")})\n`,
  );
}
