// The pieces `prepareFunction` puts together around a function's resolved environment
// (function-environment.ts): the variables Lambda itself sets, the custom resources' functions and their
// environments, and starting the build and the local servers together.
import {
  resolveTemplateValue,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "../template/sam-template.ts";
import type { LocalCloud } from "../cloud/local-cloud.ts";
import type { EmbeddedDatabaseServer } from "../embedded/embedded-database.ts";
import type { BuiltFunctions } from "../build.ts";
import type { CustomResourceDefinition, PreparedCustomResource, ResourceWorker } from "./custom-resources.ts";
import { DATABASE_VARIABLE, type EnvVarsFile } from "../template/function-environment.ts";
import type { FunctionSettings } from "./function-worker.ts";

/** The env-vars file's values for these sections that the function declares (others dropped, with a warning). */
export interface EnvVarsFileContext {
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsPath: string | undefined;
  readonly note: (text: string) => void;
}

export function envVarsFileValues(
  definition: SamFunctionDefinition,
  options: EnvVarsFileContext,
  sections: readonly string[],
): Record<string, string> {
  const declared = Object.keys(definition.environment);
  const values: Record<string, string> = {};
  for (const section of sections) {
    for (const [name, value] of Object.entries(options.envVars?.[section] ?? {})) {
      if (!declared.includes(name)) {
        options.note(
          `warning: ${name} (from ${options.envVarsPath ?? "the env-vars file"}, "${section}") is not declared in ${definition.logicalId}'s Environment in the template: dropped, as SAM does (aws-sam-cli #6145)`,
        );
        continue;
      }
      if (value !== null) values[name] = String(value);
    }
  }
  return values;
}

export function resolveEnvironment(
  definition: SamFunctionDefinition,
  template: SamTemplate,
  parameterOverrides: Readonly<Record<string, string>>,
  cloud: LocalCloud | undefined,
): { values: Record<string, string>; unresolved: string[] } {
  const values: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const [name, raw] of Object.entries(definition.environment)) {
    const value = resolveTemplateValue(raw, parameterOverrides, template, cloud?.resolveResource);
    if (value === undefined) unresolved.push(name);
    else values[name] = value;
  }
  return { values, unresolved };
}

/** The resource's properties as CloudFormation sends them: strings; a value only a deploy knows is "local". */
export function resolveProperties(
  resource: CustomResourceDefinition,
  template: SamTemplate,
  parameterOverrides: Readonly<Record<string, string>>,
  cloud: LocalCloud | undefined,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const [name, raw] of Object.entries(resource.properties)) {
    if (name === "ServiceToken") continue;
    properties[name] =
      resolveTemplateValue(raw, parameterOverrides, template, cloud?.resolveResource) ?? "local";
  }
  return properties;
}

/** The variables Lambda sets; `region` is the config's (LocalAwsConfig.region), the same as the local cloud's. */
export function lambdaRuntimeEnvironment(
  definition: SamFunctionDefinition,
  taskRoot: string,
  hostEnv: Readonly<Record<string, string | undefined>>,
  region = hostEnv.AWS_REGION ?? hostEnv.AWS_DEFAULT_REGION ?? "us-east-1",
): Record<string, string> {
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
    // What `sam local` sets, so code can tell a local run (as it can under SAM).
    AWS_SAM_LOCAL: "true",
  };
}

/** How a worker runs this function: its environment, Timeout and memory. */
export function workerSettings(
  definition: SamFunctionDefinition,
  env: Readonly<Record<string, string>>,
): FunctionSettings {
  return { env, timeoutMs: definition.timeoutSeconds * 1000, memorySizeMb: definition.memorySizeMb };
}

/** Awaits the build and the servers starting together; when one fails, stops what the others started. */
export async function startTogether(
  build: Promise<BuiltFunctions>,
  cloud: Promise<LocalCloud> | undefined,
  embedded: Promise<EmbeddedDatabaseServer> | undefined,
): Promise<[BuiltFunctions, LocalCloud | undefined, EmbeddedDatabaseServer | undefined]> {
  const [built, startedCloud, startedDatabase] = await Promise.allSettled([build, cloud, embedded]);
  if (
    built.status === "fulfilled" &&
    startedCloud.status === "fulfilled" &&
    startedDatabase.status === "fulfilled"
  )
    return [built.value, startedCloud.value, startedDatabase.value];
  if (startedCloud.status === "fulfilled") await startedCloud.value?.stop();
  if (startedDatabase.status === "fulfilled") await startedDatabase.value?.stop();
  const failed = [built, startedCloud, startedDatabase].find((result) => result.status === "rejected");
  throw failed?.reason;
}

/** What a companion function's environment is made from (a custom resource's or a schedule's function). */
export interface CompanionContext extends EnvVarsFileContext {
  readonly template: SamTemplate;
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** The config's region (LocalAwsConfig.region). */
  readonly region: string;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  /** The main function's environment: companions reach its database. */
  readonly functionEnv: Readonly<Record<string, string>>;
  readonly cloud: LocalCloud | undefined;
}

/** The companions' context of a prepared function, from the options of whatever runs them beside it. */
export function companionContextOf(
  template: SamTemplate,
  prepared: { readonly env: Readonly<Record<string, string>>; readonly cloud?: LocalCloud | undefined },
  options: Partial<Omit<EnvVarsFileContext, "note">> & {
    readonly config: { readonly hostEnv: CompanionContext["hostEnv"]; readonly region: string };
    readonly parameterOverrides: Readonly<Record<string, string>>;
  },
  note: EnvVarsFileContext["note"],
): CompanionContext {
  return {
    template,
    hostEnv: options.config.hostEnv,
    region: options.config.region,
    parameterOverrides: options.parameterOverrides,
    functionEnv: prepared.env,
    cloud: prepared.cloud,
    envVars: options.envVars,
    envVarsPath: options.envVarsPath,
    note,
  };
}

/**
 * A function that runs beside the main one (its schema migration, its scheduled relay), from the same
 * build: its own template environment, the main function's database unless the env-vars file gives this
 * function its own (a DDL role), and the local cloud's SDK settings.
 */
export function companionEnvironment(
  service: SamFunctionDefinition,
  artifactsDir: string,
  context: CompanionContext,
): Record<string, string> {
  const { template, functionEnv, cloud } = context;
  const sameDatabase = Object.fromEntries(
    Object.keys(service.environment)
      .filter((name) => DATABASE_VARIABLE.test(name) && functionEnv[name] !== undefined)
      .map((name) => [name, functionEnv[name]!]),
  );
  return {
    ...lambdaRuntimeEnvironment(service, artifactsDir, context.hostEnv, context.region),
    ...resolveEnvironment(service, template, context.parameterOverrides, cloud).values,
    ...sameDatabase,
    ...envVarsFileValues(service, context, ["Parameters", service.logicalId]),
    ...(cloud ? cloud.sdkEnvironment : {}),
  };
}

/** Each resource's function, from its build, with its environment: the function's database by default. */
export async function prepareCustomResources(
  resources: readonly CustomResourceDefinition[],
  resourceWorkers: readonly ResourceWorker[],
  context: CompanionContext & { readonly built: (logicalId: string) => Promise<BuiltFunctions> },
): Promise<PreparedCustomResource[]> {
  const prepared: PreparedCustomResource[] = [];
  for (const [index, resource] of resources.entries()) {
    const service = samFunction(context.template, resource.serviceFunctionId);
    const { artifactsDir } = await context.built(service.logicalId);
    prepared.push({
      definition: resource,
      service,
      env: companionEnvironment(service, artifactsDir, context),
      properties: resolveProperties(resource, context.template, context.parameterOverrides, context.cloud),
      worker: resourceWorkers[index]!,
    });
  }
  return prepared;
}
