import { parseCommandArgs, parseParameterOverrides, readJsonFile } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import {
  createCustomResources,
  prepareFunction,
  validateEnvVarsFile,
  workerSettings,
  type PreparedFunction,
} from "../local-aws/prepare.ts";
import { createOutput, type Output } from "../cli/output.ts";
import { userPath, displayPath } from "../cli/paths.ts";
import {
  FunctionWorker,
  formatReport,
  workerBootEnvironment,
  type InvocationReport,
} from "../local-aws/runtime/function-worker.ts";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import { refuseProduction, type ProductionPolicy } from "../local-aws/production.ts";
import {
  embeddedDataDir,
  loadCommandEnvironment,
  OUTPUT_OPTIONS,
  productionPolicy,
  localAwsConfigFor,
} from "../cli/target.ts";

export const INVOKE_HELP = `devrunner invoke [FunctionLogicalId] --event FILE|- [--env-vars FILE] [options]

Runs the built function (the artifact you deploy, rebuilt first when a source changed) on an event, as
\`sam local invoke\` does, without Docker: same arguments, same env-vars file format
({"Parameters": {...}, "EntityFunction": {...}}, values may be numbers).

Variables set in the env-vars file but not declared in the template are dropped (with a warning).
Without a database in the environment or the env-vars file, the function gets the embedded database
(PGlite served on 127.0.0.1); template queues it needs are created in an in-process SQS emulator.

Options:
  -e, --event FILE|-            the event (default: {})
  -n, --env-vars FILE           SAM env-vars JSON
  -t, --template FILE           default template.yaml
  --parameter-overrides "K=V ..."  template parameters
  --env-file FILE               dotenv file for the devrunner's own environment
  --data-dir DIR                embedded database folder (default .devrunner/pglite)
  --allow-prod                  allow a production ENV (from the environment, the template's
                                defaults, --parameter-overrides or the env-vars file)
  --json                        {response, report} as one JSON document
  -h, --help

The response goes to stdout; the function's logs and the REPORT line to stderr.
Exit codes: 0 the function returned, 1 it threw, failed to init or timed out, 2 bad usage,
3 production refused.`;

/** The flags `invoke` shares with `up`: which function, its environment, the devrunner's own. */
export const FUNCTION_OPTIONS = {
  "env-vars": { type: "string", short: "n" },
  template: { type: "string", short: "t", default: "template.yaml" },
  "parameter-overrides": { type: "string" },
  "env-file": { type: "string" },
  "data-dir": { type: "string" },
  "allow-prod": { type: "boolean", default: false },
} as const;

export const INVOKE_OPTIONS = {
  event: { type: "string", short: "e" },
  ...FUNCTION_OPTIONS,
  ...OUTPUT_OPTIONS,
} as const;

export interface InvokeRequest {
  readonly logicalId: string | undefined;
  readonly eventPath: string | undefined;
  readonly envVarsPath: string | undefined;
  readonly templatePath: string;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly config: LocalAwsConfig;
  readonly dataDir: string;
  readonly production: ProductionPolicy;
}

export function parseInvokeRequest(argv: readonly string[]): {
  request: InvokeRequest;
  json: boolean;
  help: boolean;
} {
  const { values, positionals } = parseCommandArgs("invoke", argv, INVOKE_OPTIONS);
  if (positionals.length > 1)
    throw new UsageError(`invoke: one function at a time, got ${positionals.join(", ")}`);
  const { env: hostEnv, names } = loadCommandEnvironment(values["env-file"] && userPath(values["env-file"]));
  // The devrunner's own ENV here; the function's (template, overrides, env-vars file) when it is prepared.
  const production = productionPolicy(values["allow-prod"]);
  refuseProduction(names, production);
  return {
    help: values.help,
    json: values.json,
    request: {
      logicalId: positionals[0],
      eventPath: values.event === undefined || values.event === "-" ? values.event : userPath(values.event),
      envVarsPath: values["env-vars"] && userPath(values["env-vars"]),
      templatePath: userPath(values.template),
      parameterOverrides: parseParameterOverrides(values["parameter-overrides"]),
      config: localAwsConfigFor(hostEnv),
      dataDir: embeddedDataDir(hostEnv, values["data-dir"] && userPath(values["data-dir"])),
      production,
    },
  };
}

export async function invokeCommand(argv: readonly string[]): Promise<number> {
  const { request, json, help } = parseInvokeRequest(argv);
  if (help) {
    process.stdout.write(`${INVOKE_HELP}\n`);
    return 0;
  }
  recordLastCommand("invoke", argv);
  return runInvoke(request, createOutput(json));
}

/** One invoke, start to finish. Shared with `watch`. */
export async function runInvoke(request: InvokeRequest, output: Output): Promise<number> {
  const event = request.eventPath ? readJsonFile(request.eventPath, "event") : {};
  const envVars = request.envVarsPath
    ? validateEnvVarsFile(readJsonFile(request.envVarsPath, "env-vars file"), request.envVarsPath)
    : undefined;
  // The execution environment's process starts while the function is prepared (build check, emulator,
  // embedded database): its Node start-up is off the critical path.
  const worker = new FunctionWorker({
    logSink: stderr,
    bootEnv: workerBootEnvironment(request.config.hostEnv),
  });
  worker.prestart();
  try {
    // Its init (no I/O) starts once the environment is known, overlapping the embedded database's start
    // and the schema migration the function depends on.
    const prepared = await prepareFunction({
      ...request,
      templateLabel: displayPath(request.templatePath),
      ...(request.envVarsPath ? { envVarsLabel: displayPath(request.envVarsPath) } : {}),
      envVars,
      note: output.note,
      functionWorker: worker,
    });
    try {
      await createCustomResources(prepared, { note: output.note, logSink: stderr });
      const report = await invokePrepared(prepared, event, worker);
      return printInvocation(report, prepared, output);
    } finally {
      await prepared.close();
    }
  } finally {
    worker.stop();
  }
}

/** One invocation in a fresh execution environment (or in `worker`, when one was prestarted). */
export async function invokePrepared(
  prepared: PreparedFunction,
  event: unknown,
  worker?: FunctionWorker,
): Promise<InvocationReport> {
  const environment = worker ?? new FunctionWorker({ logSink: stderr });
  environment.configure(workerSettings(prepared.definition, prepared.env));
  try {
    return await environment.invoke(event);
  } finally {
    environment.stop();
  }
}

export function printInvocation(
  report: InvocationReport,
  prepared: PreparedFunction,
  output: Output,
): number {
  const { result } = report;
  if (result.status === "timeout") {
    output.note(
      `${new Date().toISOString()} ${report.requestId} Task timed out after ${prepared.definition.timeoutSeconds.toFixed(2)} seconds`,
    );
  }
  output.note(formatReport(report));
  const response =
    result.status === "ok"
      ? result.response
      : result.status === "error"
        ? result.error
        : {
            errorType: "Sandbox.Timedout",
            errorMessage: `Task timed out after ${prepared.definition.timeoutSeconds.toFixed(2)} seconds`,
          };
  output.line(JSON.stringify(response));
  output.result({ status: result.status, response, report });
  return result.status === "ok" ? 0 : 1;
}

function stderr(chunk: Buffer): void {
  process.stderr.write(chunk);
}
