import { readFileSync } from "node:fs";
import { LocalAwsError } from "../errors.ts";
import { customResourceProviders } from "../runtime/custom-resources.ts";
import type { EnvVarsFile } from "./function-environment.ts";
import {
  parseSamTemplate,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "./sam-template.ts";

/** Reads and parses a SAM template; `label` names it in messages (the path as the user gave it). */
export function loadTemplate(templatePath: string, label = templatePath): SamTemplate {
  let text: string;
  try {
    text = readFileSync(templatePath, "utf8");
  } catch {
    throw new LocalAwsError("TEMPLATE_UNREADABLE", `cannot read the template '${label}' (use --template)`);
  }
  try {
    return parseSamTemplate(text);
  } catch (error) {
    throw new LocalAwsError("TEMPLATE_INVALID", `template '${label}': ${(error as Error).message}`);
  }
}

/**
 * The function named, or else the template's one function that takes traffic: functions that only serve
 * custom resources (the schema migration) run before it, not on their own; among several (a scheduled
 * relay besides), the one the SQS queue triggers (SAM asks for a name whenever there are several).
 */
export function pickFunction(template: SamTemplate, logicalId: string | undefined): SamFunctionDefinition {
  const functions = Object.entries(template.resources).filter(
    ([, r]) => r.Type === "AWS::Serverless::Function",
  );
  const providers = new Set(customResourceProviders(template));
  const candidates = functions.filter(([id]) => !providers.has(id));
  const sqsTriggered = candidates.filter(([, r]) =>
    Object.values((r.Properties?.Events ?? {}) as Record<string, { Type?: string }>).some(
      (e) => e.Type === "SQS",
    ),
  );
  const id =
    logicalId ??
    (candidates.length === 1
      ? candidates[0]![0]
      : sqsTriggered.length === 1
        ? sqsTriggered[0]![0]
        : undefined);
  if (!id)
    throw new LocalAwsError(
      "FUNCTION_AMBIGUOUS",
      `the template has ${functions.length} functions (${functions.map(([name]) => name).join(", ")}): name one`,
    );
  try {
    return samFunction(template, id);
  } catch (error) {
    throw new LocalAwsError("FUNCTION_NOT_FOUND", (error as Error).message);
  }
}

/** Checks the env-vars file has SAM's shape: `{ "Parameters": {...}, "<FunctionId>": {...} }`, scalar values. */
export function validateEnvVarsFile(value: unknown, path: string): EnvVarsFile {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LocalAwsError(
      "ENV_VARS_INVALID",
      `env-vars file '${path}' must be a JSON object like {"EntityFunction": {"DB_HOST": "..."}}`,
    );
  }
  for (const [section, variables] of Object.entries(value)) {
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      throw new LocalAwsError(
        "ENV_VARS_INVALID",
        `env-vars file '${path}': "${section}" must be an object of variables`,
      );
    }
    for (const [name, variable] of Object.entries(variables as Record<string, unknown>)) {
      if (variable !== null && !["string", "number", "boolean"].includes(typeof variable)) {
        throw new LocalAwsError(
          "ENV_VARS_INVALID",
          `env-vars file '${path}': ${section}.${name} must be a string, number or boolean`,
        );
      }
    }
  }
  return value as EnvVarsFile;
}
