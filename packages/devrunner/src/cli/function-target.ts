import type { LocalAwsConfig } from "../local-aws/config.ts";
import { refuseProduction, type ProductionPolicy } from "../local-aws/production.ts";
import type { EnvVarsFile } from "../local-aws/template/function-environment.ts";
import { validateEnvVarsFile } from "../local-aws/template/functions.ts";
import { parseParameterOverrides, readJsonFile } from "./args.ts";
import { UsageError } from "./errors.ts";
import type { FlagValues } from "./flags.ts";
import { displayPath, userPath } from "./paths.ts";
import { discoverTemplate } from "./sam-options.ts";
import { embeddedDataDir, loadCommandEnvironment, localAwsConfigFor, productionPolicy } from "./target.ts";

/** The flags of every command that runs a function of the template (invoke, up, watch invoke). */
export const FUNCTION_FLAGS = [
  "template",
  "env-vars",
  "parameter-overrides",
  "env-file",
  "data-dir",
  "allow-prod",
  // #14 part 6 (SAM's flags, the same region in every command)
  "region",
  "profile",
] as const;

/** Which function of which template, with what environment: what the local-AWS core takes. */
export interface FunctionRequest {
  readonly logicalId: string | undefined;
  readonly templatePath: string;
  /** The template and env-vars paths as the user typed them, for messages. */
  readonly templateLabel: string;
  readonly envVarsPath: string | undefined;
  readonly envVarsLabel?: string;
  readonly envVars: EnvVarsFile | undefined;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly config: LocalAwsConfig;
  readonly dataDir: string;
  readonly production: ProductionPolicy;
}

/**
 * Resolves the function flags: paths relative to where the user typed the command, the devrunner's own
 * environment (with --env-file, refused when it names production without --allow-prod; the function's
 * own ENV is checked when the core prepares it), the env-vars file read and checked once.
 */
export function resolveFunctionRequest(
  command: string,
  values: FlagValues<(typeof FUNCTION_FLAGS)[number]>,
  positionals: readonly string[],
): FunctionRequest {
  if (positionals.length > 1)
    throw new UsageError(`${command}: one function at a time, got ${positionals.join(", ")}`);
  const { env, names } = loadCommandEnvironment(values["env-file"] && userPath(values["env-file"]));
  const production = productionPolicy(values["allow-prod"]);
  refuseProduction(names, production);
  const envVarsPath = values["env-vars"] && userPath(values["env-vars"]);
  const template = discoverTemplate(values.template, env);
  const hostEnv = withProfile(env, values.profile);
  return {
    logicalId: positionals[0],
    templatePath: template.path,
    templateLabel: template.label,
    envVarsPath,
    ...(envVarsPath ? { envVarsLabel: displayPath(envVarsPath) } : {}),
    envVars: envVarsPath
      ? validateEnvVarsFile(readJsonFile(envVarsPath, "env-vars file"), envVarsPath)
      : undefined,
    parameterOverrides: parseParameterOverrides(values["parameter-overrides"]),
    config: localAwsConfigFor(hostEnv, values.region),
    dataDir: embeddedDataDir(hostEnv, values["data-dir"] && userPath(values["data-dir"])),
    production,
  };
}

/**
 * --profile: the function's SDK reads that profile (HOME is passed on); keys in the environment would
 * win over it, so they are left out, as SAM hands the function only the profile's credentials.
 */
export function withProfile(
  env: Readonly<Record<string, string | undefined>>,
  profile: string | undefined,
): Readonly<Record<string, string | undefined>> {
  if (profile === undefined) return env;
  const withoutKeys: Record<string, string | undefined> = { ...env, AWS_PROFILE: profile };
  for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"])
    delete withoutKeys[name];
  return withoutKeys;
}
