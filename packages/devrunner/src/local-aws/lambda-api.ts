import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ensureBuilt } from "./build.ts";
import { lambdaInvokeApi, type ApiInvocation, type InvokableFunction } from "./cloud/lambda-invoke-api.ts";
import { LocalAwsError } from "./errors.ts";
import {
  createCustomResources,
  prepareFunction,
  type PreparedFunction,
  type PrepareOptions,
} from "./prepare.ts";
import { workerBootEnvironment } from "./runtime/function-worker.ts";
import { companionContextOf, companionEnvironment, workerSettings } from "./runtime/runtime-environment.ts";
import { WarmEnvironments } from "./runtime/warm-environments.ts";
import { samFunction } from "./template/sam-template.ts";

/** Only this machine: the API runs the function's code with its credentials for whoever asks. */
export const LAMBDA_API_HOST = "127.0.0.1";
/** Execution environments per function at most (Lambda scales further; a laptop does not need to). */
const ENVIRONMENTS_PER_FUNCTION = 10;

export interface LambdaApiOptions extends Omit<PrepareOptions, "functionWorker" | "cloud" | "logicalId"> {
  /** 0 picks a free one. */
  readonly port: number;
  /** Where the functions' own output (their logs) goes. */
  readonly logSink: (chunk: Buffer) => void;
  readonly onInvocation: (invocation: ApiInvocation) => void;
  readonly onError: (error: unknown) => void;
}

export interface LambdaApi {
  /** What a client's endpoint override names: http://127.0.0.1:PORT. */
  readonly endpoint: string;
  /** The FunctionNames it answers to: the template's functions, by logical id. */
  readonly functionNames: readonly string[];
  readonly prepared: PreparedFunction;
  stop(): Promise<void>;
}

/**
 * `sam local start-lambda`: the Lambda Invoke API on 127.0.0.1 for every function of the template, each
 * on warm execution environments created as invocations need them. The function that takes traffic is
 * prepared as `invoke` prepares it (its database, the local cloud for its queues, its custom resources
 * created first); the others (the relay, the migration) get the same database and cloud, as in `up`.
 */
export async function startLambdaApi(options: LambdaApiOptions): Promise<LambdaApi> {
  const server = createServer();
  await listen(server, options.port);
  let prepared: PreparedFunction | undefined;
  const environments = new Map<string, WarmEnvironments>();
  const stop = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    for (const environment of environments.values()) environment.stop();
    await prepared?.close();
  };
  try {
    prepared = await prepareFunction({ ...options, logicalId: undefined });
    await createCustomResources(prepared, options);
    for (const [name, environment] of await warmEnvironments(prepared, options))
      environments.set(name, environment);
    environments.get(prepared.definition.logicalId)?.prewarm();
  } catch (error) {
    await stop();
    throw error;
  }
  const functions = new Map<string, InvokableFunction>(
    [...environments].map(([name, environment]) => [
      name,
      {
        timeoutSeconds: samFunction(prepared.template, name).timeoutSeconds,
        invoke: (event) => environment.invoke(event),
      },
    ]),
  );
  server.on(
    "request",
    lambdaInvokeApi({
      functions,
      region: prepared.env.AWS_REGION ?? "us-east-1",
      onInvocation: options.onInvocation,
      onError: options.onError,
    }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${LAMBDA_API_HOST}:${port}`,
    functionNames: [...functions.keys()],
    prepared,
    stop,
  };
}

/** Every function of the template, none started yet: the prepared one's settings, the others' from the same build. */
async function warmEnvironments(
  prepared: PreparedFunction,
  options: LambdaApiOptions,
): Promise<Map<string, WarmEnvironments>> {
  const { template } = prepared;
  const bootEnv = workerBootEnvironment(options.config.hostEnv);
  const found = new Map<string, WarmEnvironments>();
  for (const [logicalId, resource] of Object.entries(template.resources)) {
    if (resource.Type !== "AWS::Serverless::Function") continue;
    const definition = samFunction(template, logicalId);
    const env =
      logicalId === prepared.definition.logicalId
        ? prepared.env
        : companionEnvironment(
            definition,
            (await ensureBuilt(template, logicalId, options.config, options.note)).artifactsDir,
            companionContextOf(template, prepared, options, options.note),
          );
    found.set(
      logicalId,
      new WarmEnvironments({
        settings: workerSettings(definition, env),
        bootEnv,
        logSink: options.logSink,
        limit: ENVIRONMENTS_PER_FUNCTION,
      }),
    );
  }
  return found;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new LocalAwsError(
              "API_PORT_IN_USE",
              `${LAMBDA_API_HOST}:${port} is in use (another start-lambda?): pick another --port`,
            )
          : error,
      ),
    );
    server.listen(port, LAMBDA_API_HOST, () => resolve());
  });
}
