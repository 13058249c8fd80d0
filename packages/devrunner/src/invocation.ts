import { execFile } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { namesDatabase } from "@entity/adapters/postgres";
import {
  parseSamTemplate,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "@entity/adapters/sam";
import type { LocalCloud } from "./cloud/local-cloud.ts";
import type { EmbeddedDatabaseServer } from "./embedded-database.ts";
import { InvokeError, UsageError } from "./errors.ts";
import {
  functionEnvironmentName,
  resolveFunctionEnvironment,
  type EnvVarsFile,
  type FunctionEnvironment,
} from "./function-environment.ts";
import { displayPath, newestModification, repositoryRoot } from "./paths.ts";
import { refuseProduction, type ProductionPolicy } from "./production.ts";

export type { EnvVarsFile } from "./function-environment.ts";

export interface PreparedFunction {
  readonly definition: SamFunctionDefinition;
  readonly template: SamTemplate;
  readonly artifactsDir: string;
  /** The function's whole environment, as Lambda would set it. */
  readonly env: Readonly<Record<string, string>>;
  readonly cloud: LocalCloud | undefined;
  readonly embedded: EmbeddedDatabaseServer | undefined;
  close(): Promise<void>;
}

export interface PrepareOptions {
  readonly templatePath: string;
  readonly logicalId: string | undefined;
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsPath: string | undefined;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  /** The devrunner's environment: AWS credentials and region pass through; DB_* name the database. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly dataDir: string;
  /** A running local cloud (`up`); otherwise one is started when the template's queues are needed. */
  readonly cloud?: LocalCloud;
  /** Whether the function may run with a production `ENV` (--allow-prod) and what counts as one. */
  readonly production: ProductionPolicy;
  readonly note: (text: string) => void;
}

export function loadTemplate(templatePath: string): SamTemplate {
  let text: string;
  try {
    text = readFileSync(templatePath, "utf8");
  } catch {
    throw new UsageError(`cannot read the template '${templatePath}' (use --template)`);
  }
  try {
    return parseSamTemplate(text);
  } catch (error) {
    throw new UsageError(`template '${templatePath}': ${(error as Error).message}`);
  }
}

/**
 * The function to run: the one named, the template's only one, or (an addition to SAM, which asks for a
 * name whenever there are several) its only SQS-triggered function.
 */
export function pickFunction(template: SamTemplate, logicalId: string | undefined): SamFunctionDefinition {
  const functions = Object.entries(template.resources).filter(
    ([, r]) => r.Type === "AWS::Serverless::Function",
  );
  const sqsTriggered = functions.filter(([, r]) =>
    Object.values((r.Properties?.Events ?? {}) as Record<string, { Type?: string }>).some(
      (e) => e.Type === "SQS",
    ),
  );
  const id =
    logicalId ??
    (functions.length === 1 ? functions[0]![0] : sqsTriggered.length === 1 ? sqsTriggered[0]![0] : undefined);
  if (!id)
    throw new UsageError(
      `the template has ${functions.length} functions (${functions.map(([name]) => name).join(", ")}): name one`,
    );
  try {
    return samFunction(template, id);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Checks the env-vars file has SAM's shape: `{ "Parameters": {...}, "<FunctionId>": {...} }`, scalar values. */
export function validateEnvVarsFile(value: unknown, path: string): EnvVarsFile {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `env-vars file '${path}' must be a JSON object like {"EntityFunction": {"DB_HOST": "..."}}`,
    );
  }
  for (const [section, variables] of Object.entries(value)) {
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      throw new UsageError(`env-vars file '${path}': "${section}" must be an object of variables`);
    }
    for (const [name, variable] of Object.entries(variables as Record<string, unknown>)) {
      if (variable !== null && !["string", "number", "boolean"].includes(typeof variable)) {
        throw new UsageError(
          `env-vars file '${path}': ${section}.${name} must be a string, number or boolean`,
        );
      }
    }
  }
  return value as EnvVarsFile;
}

/**
 * Works out the function's environment (see resolveFunctionEnvironment), refuses a production `ENV` unless
 * allowed, builds the function if a source changed (the Makefile target `sam build` runs), and starts
 * what the environment needs locally: the template's queues, the embedded database.
 */
export async function prepareFunction(options: PrepareOptions): Promise<PreparedFunction> {
  const template = loadTemplate(options.templatePath);
  const definition = pickFunction(template, options.logicalId);
  let cloud = options.cloud;
  const resolveWith = (resolveResource: LocalCloud["resolveResource"] | undefined): FunctionEnvironment =>
    resolveFunctionEnvironment({
      template,
      definition,
      templateLabel: displayPath(options.templatePath),
      parameterOverrides: options.parameterOverrides,
      envVars: options.envVars,
      envVarsLabel: options.envVarsPath && displayPath(options.envVarsPath),
      hostEnv: options.hostEnv,
      resolveResource,
    });
  let environment = resolveWith(cloud?.resolveResource);
  // Before anything is built or started: the guard sees the environment the function would get.
  refuseProduction(functionEnvironmentName(environment), options.production);
  for (const { name, section } of environment.dropped) {
    options.note(
      `warning: ${name} (from ${options.envVarsPath ?? "the env-vars file"}, "${section}") is not declared in ${definition.logicalId}'s Environment in the template: dropped, as SAM does (aws-sam-cli #6145)`,
    );
  }
  const artifactsDir = await ensureBuilt(definition.logicalId, repositoryRoot(), options.note);

  const needsCloud = environment.unresolved.some((name) => !/^(DATABASE_URL|DB_)/.test(name));
  let ownCloud: LocalCloud | undefined;
  if (!cloud && needsCloud) {
    // Loaded only when needed: the emulator and PGlite are the heaviest modules the devrunner has.
    const { startLocalCloud } = await import("./cloud/local-cloud.ts");
    ownCloud = cloud = await startLocalCloud(template);
    options.note(`local cloud: fauxqs on ${cloud.endpoint} with the template's queues and topics`);
    environment = resolveWith(cloud.resolveResource);
  }

  const functionEnv: Record<string, string> = { ...environment.values };
  let embedded: EmbeddedDatabaseServer | undefined;
  if (!namesDatabase(functionEnv)) {
    const { serveEmbeddedDatabase } = await import("./embedded-database.ts");
    embedded = await serveEmbeddedDatabase(options.dataDir);
    options.note(`database: embedded PGlite (${options.dataDir}) served on 127.0.0.1:${embedded.port}`);
    Object.assign(functionEnv, embedded.environment);
  }
  const env: Record<string, string> = {
    ...lambdaRuntimeEnvironment(definition, artifactsDir, options.hostEnv),
    ...functionEnv,
    ...(cloud ? cloud.sdkEnvironment : {}),
  };
  return {
    definition,
    template,
    artifactsDir,
    env,
    cloud,
    embedded,
    close: async () => {
      await embedded?.stop();
      await ownCloud?.stop();
    },
  };
}

function lambdaRuntimeEnvironment(
  definition: SamFunctionDefinition,
  taskRoot: string,
  hostEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const region = hostEnv.AWS_REGION ?? hostEnv.AWS_DEFAULT_REGION ?? "us-east-1";
  const passThrough = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "HOME",
    "PATH",
  ];
  return {
    ...Object.fromEntries(
      passThrough.filter((name) => hostEnv[name] !== undefined).map((name) => [name, hostEnv[name] ?? ""]),
    ),
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_LAMBDA_FUNCTION_NAME: definition.logicalId,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(definition.memorySizeMb),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(definition.timeoutSeconds),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${definition.logicalId}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `$LATEST/local`,
    AWS_EXECUTION_ENV: `AWS_Lambda_${definition.runtime ?? "nodejs24.x"}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: taskRoot,
    _HANDLER: definition.handler,
    TZ: ":UTC",
    LANG: "en_US.UTF-8",
  };
}

/** The built artifact in `.devrunner/build/<FunctionId>`, rebuilt with `make build-<FunctionId>` when a source is newer. */
export async function ensureBuilt(
  logicalId: string,
  root: string,
  note: (text: string) => void,
): Promise<string> {
  const artifactsDir = resolve(
    process.env.DEVRUNNER_BUILD_DIR ?? resolve(root, ".devrunner", "build"),
    logicalId,
  );
  const bundle = join(artifactsDir, "index.mjs");
  const sources = [
    "packages/domain/src",
    "packages/adapters/src",
    "packages/lambda/src",
    "packages/lambda/scripts",
    "Makefile",
    "pnpm-lock.yaml",
  ].map((path) => join(root, path));
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestModification(sources)) return artifactsDir;
  const started = performance.now();
  try {
    await promisify(execFile)(
      "make",
      [`build-${logicalId}`, `ARTIFACTS_DIR=${artifactsDir}`, "BUILD_FLAGS=--quiet"],
      { cwd: root },
    );
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new InvokeError(
      `building ${logicalId} failed:\n${failed.stderr || failed.stdout || failed.message}`,
    );
  }
  note(`built ${logicalId} in ${(performance.now() - started).toFixed(0)} ms (sources changed)`);
  return artifactsDir;
}
