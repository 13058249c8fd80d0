import { parse, type Tags } from "yaml";

/** A CloudFormation value after YAML parsing: short-form tags become their long form (`!Ref x` -> `{ Ref: x }`). */
export type TemplateValue = unknown;

export interface SamTemplate {
  readonly parameters: Readonly<Record<string, { Type?: string; Default?: unknown }>>;
  readonly globals: Readonly<Record<string, unknown>>;
  readonly resources: Readonly<
    Record<
      string,
      {
        Type: string;
        Properties?: Record<string, unknown>;
        Metadata?: Record<string, unknown>;
        DependsOn?: string | readonly string[];
      }
    >
  >;
}

const INTRINSICS = [
  "Ref",
  "Condition",
  "GetAtt",
  "Sub",
  "Join",
  "Select",
  "Split",
  "If",
  "Equals",
  "Not",
  "And",
  "Or",
  "FindInMap",
  "ImportValue",
  "Base64",
  "Cidr",
  "GetAZs",
  "Transform",
] as const;

function cloudFormationTags(): Tags {
  const tags: Tags = [];
  for (const name of INTRINSICS) {
    const key = name === "Ref" || name === "Condition" ? name : `Fn::${name}`;
    tags.push({
      tag: `!${name}`,
      // `!GetAtt A.B.C` is `[A, "B.C"]`: CloudFormation splits at the first dot only (attributes such as
      // `Endpoint.Address` have dots of their own).
      resolve: (value: string) => ({ [key]: name === "GetAtt" ? splitAtFirstDot(value) : value }),
    });
    for (const collection of ["seq", "map"] as const) {
      tags.push({
        tag: `!${name}`,
        collection,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      });
    }
  }
  return tags;
}

function splitAtFirstDot(value: string): string[] {
  const dot = value.indexOf(".");
  return dot < 0 ? [value] : [value.slice(0, dot), value.slice(dot + 1)];
}

/** Parses a SAM / CloudFormation template, understanding the short-form intrinsic tags. */
export function parseSamTemplate(text: string): SamTemplate {
  const document = parse(text, { customTags: cloudFormationTags() }) as Partial<{
    Parameters: SamTemplate["parameters"];
    Globals: SamTemplate["globals"];
    Resources: SamTemplate["resources"];
  }> | null;
  if (!document || typeof document !== "object" || !document.Resources) {
    throw new Error("not a SAM template: no Resources section");
  }
  return {
    parameters: document.Parameters ?? {},
    globals: document.Globals ?? {},
    resources: document.Resources,
  };
}

export interface SamFunctionDefinition {
  readonly logicalId: string;
  readonly handler: string;
  readonly runtime: string | undefined;
  readonly codeUri: string | undefined;
  readonly timeoutSeconds: number;
  readonly memorySizeMb: number;
  /** Declared variables with their template values (unresolved intrinsics stay objects). */
  readonly environment: Readonly<Record<string, TemplateValue>>;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** An `AWS::Serverless::Function`, with `Globals.Function` applied as SAM does. */
export function samFunction(template: SamTemplate, logicalId: string): SamFunctionDefinition {
  const resource = template.resources[logicalId];
  const functions = Object.entries(template.resources)
    .filter(([, candidate]) => candidate.Type === "AWS::Serverless::Function")
    .map(([id]) => id);
  if (!resource || resource.Type !== "AWS::Serverless::Function") {
    throw new Error(
      `no AWS::Serverless::Function named ${logicalId} in the template (it has: ${functions.join(", ") || "none"})`,
    );
  }
  const globals = (template.globals.Function ?? {}) as Record<string, unknown>;
  const properties = { ...globals, ...(resource.Properties ?? {}) };
  const variablesOf = (source: Record<string, unknown>): Record<string, unknown> =>
    (source.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return {
    logicalId,
    handler: typeof properties.Handler === "string" ? properties.Handler : "",
    runtime: properties.Runtime as string | undefined,
    codeUri: properties.CodeUri as string | undefined,
    timeoutSeconds: Number(properties.Timeout ?? 3),
    memorySizeMb: Number(properties.MemorySize ?? 128),
    environment: { ...variablesOf(globals), ...variablesOf(resource.Properties ?? {}) },
    properties,
  };
}

/**
 * Resolves a template value the way a local run can: `Ref` to a parameter gives the override or the
 * default; anything it cannot resolve (a resource's Ref, GetAtt, ...) gives `undefined`.
 */
export function resolveTemplateValue(
  value: TemplateValue,
  parameters: Readonly<Record<string, unknown>>,
  template: SamTemplate,
  resolveResource: (logicalId: string, attribute?: string) => string | undefined = () => undefined,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return String(value);
  if (typeof value !== "object") return undefined;
  const object = value as Record<string, unknown>;
  if (typeof object.Ref === "string") {
    const name = object.Ref;
    if (name in parameters) return stringOrUndefined(parameters[name]);
    if (name in template.parameters) return stringOrUndefined(template.parameters[name]?.Default);
    if (name === "AWS::Region") return stringOrUndefined(parameters["AWS::Region"]) ?? "us-east-1";
    if (name === "AWS::AccountId") return "123456789012";
    return resolveResource(name);
  }
  const getAtt = object["Fn::GetAtt"];
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string")
    return resolveResource(getAtt[0], String(getAtt[1] ?? ""));
  return undefined;
}

function stringOrUndefined(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return String(value);
  return JSON.stringify(value);
}
