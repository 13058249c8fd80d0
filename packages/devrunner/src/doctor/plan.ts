import { ConfigError } from "@entity/adapters/postgres";
import { parseParameterOverrides, readJsonFile } from "../cli/args.ts";
import { resolveFunctionEnvironment, type EnvVarsFile } from "../local-aws/template/function-environment.ts";
import { loadTemplate, pickFunction, validateEnvVarsFile } from "../local-aws/prepare.ts";
import { displayPath, userPath } from "../cli/paths.ts";
import { discoverTemplate } from "../cli/sam-options.ts";
import {
  chooseDatabase,
  loadCommandEnvironment,
  type DatabaseChoice,
  type DatabaseTarget,
} from "../cli/target.ts";
import { templateConnections, type FunctionConnections } from "./budget.ts";

/** What doctor checks: one function's database as that function would reach it, and the template's budget. */
export interface DoctorPlan {
  readonly functionId: string;
  /** The function's ENV, shown so nobody mistakes which environment was checked. */
  readonly environmentName: string | undefined;
  /** The database, or why its settings cannot be used (a bad variable: a failed check, not bad usage). */
  readonly target: DatabaseTarget | { readonly kind: "invalid"; readonly problem: string };
  readonly functions: readonly FunctionConnections[];
}

export interface DoctorFlags {
  readonly logicalId: string | undefined;
  readonly db: string;
  readonly "env-file"?: string | undefined;
  readonly "data-dir"?: string | undefined;
  readonly template: string;
  readonly "env-vars"?: string | undefined;
  readonly "parameter-overrides"?: string | undefined;
}

/**
 * Resolves the flags like `invoke` does: the function's environment from the template's defaults,
 * --parameter-overrides, the environment's DB_* variables (with --env-file) and the env-vars file. The
 * database is the one that environment names, else the embedded default; --db memory|pglite picks those.
 */
export function planDoctor(flags: DoctorFlags): DoctorPlan {
  const { env: hostEnv } = loadCommandEnvironment(flags["env-file"] && userPath(flags["env-file"]));
  const templatePath = discoverTemplate(flags.template, hostEnv).path;
  const template = loadTemplate(templatePath);
  const envVarsPath = flags["env-vars"] && userPath(flags["env-vars"]);
  const envVars: EnvVarsFile | undefined = envVarsPath
    ? validateEnvVarsFile(readJsonFile(envVarsPath, "env-vars file"), envVarsPath)
    : undefined;
  const parameterOverrides = parseParameterOverrides(flags["parameter-overrides"]);
  const environmentOf = (logicalId: string): Readonly<Record<string, string>> =>
    resolveFunctionEnvironment({
      template,
      definition: pickFunction(template, logicalId),
      templateLabel: displayPath(templatePath),
      parameterOverrides,
      envVars,
      envVarsLabel: envVarsPath && displayPath(envVarsPath),
      hostEnv,
    }).values;

  const definition = pickFunction(
    template,
    flags.logicalId ?? (template.resources.EntityFunction ? "EntityFunction" : undefined),
  );
  const functionEnv = environmentOf(definition.logicalId);
  let target: DoctorPlan["target"];
  try {
    target = chooseDatabase(
      { ...functionEnv, DEVRUNNER_DATA_DIR: hostEnv.DEVRUNNER_DATA_DIR },
      flags.db as DatabaseChoice,
      flags["data-dir"] && userPath(flags["data-dir"]),
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    target = { kind: "invalid", problem: error.message };
  }
  return {
    functionId: definition.logicalId,
    environmentName: functionEnv.ENV,
    target,
    functions: templateConnections(template, parameterOverrides, (id) => environmentOf(id).DB_POOL_MAX),
  };
}
