import { namesDatabase } from "@entity/adapters/postgres";
import { resolveTemplateValue, type SamFunctionDefinition, type SamTemplate } from "./sam-template.ts";
import type { EnvironmentName } from "../production.ts";

/** SAM's env-vars file: `{ "Parameters": {...}, "<FunctionId>": {...} }`. */
export type EnvVarsFile = Readonly<
  Record<string, Readonly<Record<string, string | number | boolean | null>>>
>;

export interface FunctionEnvironmentSources {
  readonly template: SamTemplate;
  readonly definition: SamFunctionDefinition;
  /** How the template is named in messages (the path as the user gave it). */
  readonly templateLabel: string;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsLabel: string | undefined;
  /** The devrunner's environment: its DB_* variables reach the function when it names a database. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  /** Resource Refs and GetAtts, when a local cloud is running. */
  readonly resolveResource?: ((logicalId: string, attribute?: string) => string | undefined) | undefined;
}

export interface FunctionEnvironment {
  /** The declared variables that have a value. */
  readonly values: Readonly<Record<string, string>>;
  /** Where each value came from, for messages. */
  readonly origins: Readonly<Record<string, string>>;
  /** Declared variables the template could not resolve and nothing else set (queues without a cloud, ...). */
  readonly unresolved: readonly string[];
  /** Variables the env-vars file sets that the template does not declare: dropped, as SAM does. */
  readonly dropped: readonly { readonly name: string; readonly section: string }[];
}

/** The variables that name the database (and so must name the same one for every function of a run). */
export const DATABASE_VARIABLE = /^(DATABASE_URL|DB_)/;

/**
 * The function's environment as `sam local invoke` builds it, and as `invoke`, `up` and `doctor` see it:
 * template values (parameter overrides, else parameter defaults), then the devrunner's own DB_* variables
 * when they name a database, then the env-vars file (`Parameters` for every function, then the function's
 * own section). Only variables the template declares are kept. No I/O.
 */
export function resolveFunctionEnvironment(sources: FunctionEnvironmentSources): FunctionEnvironment {
  const { definition, template, parameterOverrides } = sources;
  const declared = Object.keys(definition.environment);
  const values: Record<string, string> = {};
  const origins: Record<string, string> = {};
  const unresolved: string[] = [];

  for (const [name, raw] of Object.entries(definition.environment)) {
    const value = resolveTemplateValue(raw, parameterOverrides, template, sources.resolveResource);
    if (value === undefined) {
      unresolved.push(name);
      continue;
    }
    values[name] = value;
    origins[name] = templateOrigin(raw, sources);
  }

  if (namesDatabase(sources.hostEnv)) {
    for (const name of declared.filter((candidate) => DATABASE_VARIABLE.test(candidate))) {
      const value = sources.hostEnv[name];
      if (value === undefined) continue;
      values[name] = value;
      origins[name] = "the environment";
    }
  }

  const dropped: { name: string; section: string }[] = [];
  for (const section of ["Parameters", definition.logicalId]) {
    for (const [name, value] of Object.entries(sources.envVars?.[section] ?? {})) {
      if (!declared.includes(name)) {
        dropped.push({ name, section });
        continue;
      }
      if (value === null) continue;
      values[name] = String(value);
      origins[name] =
        `${sources.envVarsLabel ? `env-vars file ${sources.envVarsLabel}` : "the env-vars file"} (${section})`;
    }
  }
  return {
    values,
    origins,
    unresolved: unresolved.filter((name) => values[name] === undefined),
    dropped,
  };
}

/** The function's `ENV`, with where it came from: what the production guard looks at. */
export function functionEnvironmentName(environment: FunctionEnvironment): EnvironmentName[] {
  const value = environment.values.ENV;
  if (value === undefined) return [];
  return [{ variable: "ENV", value, origin: environment.origins.ENV ?? "the template" }];
}

function templateOrigin(raw: unknown, sources: FunctionEnvironmentSources): string {
  const reference = (raw as { Ref?: unknown } | null)?.Ref;
  if (typeof reference === "string") {
    const override = sources.parameterOverrides[reference];
    if (override !== undefined) return `--parameter-overrides ${reference}=${override}`;
    if (reference in sources.template.parameters)
      return `the default of parameter ${reference} in ${sources.templateLabel}`;
    return `${reference} (a resource of ${sources.templateLabel})`;
  }
  return `${sources.templateLabel} (${sources.definition.logicalId} Environment)`;
}
