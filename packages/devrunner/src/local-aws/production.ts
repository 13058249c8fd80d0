import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LocalAwsError } from "./errors.ts";

/** Names a production environment unless the project says otherwise: prod, production, prd (and prod-eu, ...). */
export const DEFAULT_PRODUCTION_ENVIRONMENTS = "^(prod|production|prd)(-.*)?$";

/** Which environment names count as production, and where that rule came from. */
export interface ProductionPattern {
  readonly regex: RegExp;
  readonly origin: string;
}

/** An environment name a command would run under, and where it came from (for the refusal message). */
export interface EnvironmentName {
  readonly variable: string;
  readonly value: string;
  /** e.g. `env-vars file f.json (EntityFunction)`, `--parameter-overrides Env=prod`, `the environment`. */
  readonly origin: string;
}

export interface ProductionPolicy {
  readonly allowed: boolean;
  readonly pattern: ProductionPattern;
}

/**
 * The project's rule from its root package.json (`"devrunner": {"productionEnvironments": "REGEX"}`,
 * matched case-insensitively), or the default. A malformed setting is bad usage, not a silent default:
 * a guard that quietly falls back could let production through.
 */
export function productionPatternFrom(packageJson: unknown, file: string): ProductionPattern {
  const section = (packageJson as { devrunner?: unknown } | null)?.devrunner;
  const configured = (section as { productionEnvironments?: unknown } | null | undefined)
    ?.productionEnvironments;
  if (configured === undefined) {
    return { regex: new RegExp(DEFAULT_PRODUCTION_ENVIRONMENTS, "i"), origin: "the default" };
  }
  const setting = `${file}: devrunner.productionEnvironments`;
  if (typeof configured !== "string" || configured.trim() === "") {
    throw new LocalAwsError(
      "PRODUCTION_PATTERN_INVALID",
      `${setting} must be a regular expression in a string, like "^(prod|prd)$"`,
    );
  }
  try {
    return { regex: new RegExp(configured, "i"), origin: setting };
  } catch (error) {
    throw new LocalAwsError(
      "PRODUCTION_PATTERN_INVALID",
      `${setting} is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}

/** Reads the pattern from the repository's root package.json (once per command, at the edge). */
export function loadProductionPattern(root: string): ProductionPattern {
  const file = join(root, "package.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return productionPatternFrom(undefined, file);
  }
  try {
    return productionPatternFrom(JSON.parse(text), file);
  } catch (error) {
    if (error instanceof LocalAwsError) throw error;
    throw new LocalAwsError(
      "PRODUCTION_PATTERN_INVALID",
      `${file} is not valid JSON: ${(error as Error).message}`,
    );
  }
}

export function namesProduction(value: string, pattern: ProductionPattern): boolean {
  return pattern.regex.test(value.trim());
}

/** The first name that is production, if any. */
export function findProductionName(
  names: readonly EnvironmentName[],
  pattern: ProductionPattern,
): EnvironmentName | undefined {
  return names.find((name) => namesProduction(name.value, pattern));
}

/** Throws PRODUCTION_REFUSED, naming the value and where it came from, unless allowed. */
export function refuseProduction(names: readonly EnvironmentName[], policy: ProductionPolicy): void {
  if (policy.allowed) return;
  const found = findProductionName(names, policy.pattern);
  if (!found) return;
  throw new LocalAwsError(
    "PRODUCTION_REFUSED",
    `${found.variable}=${found.value} from ${found.origin} is production (/${policy.pattern.regex.source}/i, ${policy.pattern.origin}): refusing to write. Pass --allow-prod if you really mean it.`,
  );
}

/** `ENV` of a command's own environment, with where it came from. */
export function hostEnvironmentName(
  env: Readonly<Record<string, string | undefined>>,
  envFile: { readonly label: string; readonly values: Readonly<Record<string, string>> } | undefined,
): EnvironmentName[] {
  const value = env.ENV;
  if (value === undefined) return [];
  const fromFile = envFile?.values.ENV !== undefined;
  return [{ variable: "ENV", value, origin: fromFile ? `env file ${envFile.label}` : "the environment" }];
}
