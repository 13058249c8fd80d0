// A function's environment as Lambda would set it, worked out from the template, its parameters, the
// env-vars file and the local cloud: the pieces `prepareFunction` puts together.
import { resolveTemplateValue, type SamFunctionDefinition, type SamTemplate } from "@entity/adapters/sam";
import type { LocalCloud } from "./cloud/local-cloud.ts";
import type { CustomResourceDefinition } from "./runtime/custom-resources.ts";

/** SAM's env-vars file: `{ "Parameters": {...}, "<FunctionId>": {...} }`. */
export type EnvVarsFile = Readonly<
  Record<string, Readonly<Record<string, string | number | boolean | null>>>
>;

/** The variables that name the database (and so must name the same one for every function of a run). */
export const DATABASE_VARIABLE = /^(DATABASE_URL|DB_)/;

/** The env-vars file's values for these sections that the function declares (others dropped, with a warning). */
export function envVarsFileValues(
  definition: SamFunctionDefinition,
  options: {
    readonly envVars: EnvVarsFile | undefined;
    readonly envVarsPath: string | undefined;
    readonly note: (text: string) => void;
  },
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

export function lambdaRuntimeEnvironment(
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
