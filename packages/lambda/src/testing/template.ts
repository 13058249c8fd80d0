// template.yaml as the Lambda package's tests read it: the YAML with CloudFormation's short-form tags, and a
// function with Globals.Function applied. (The devrunner's local-AWS core has the full template model; the
// Lambda package may not import the devrunner, so its tests keep this small reader of their own.)
import { readFileSync } from "node:fs";
import { parse, type Tags } from "yaml";

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly DependsOn?: string | string[];
}

export interface Template {
  readonly Globals?: { Function?: Record<string, unknown> };
  readonly Resources: Record<string, TemplateResource>;
}

const TAGS = [
  "Ref",
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
];

function cloudFormationTags(): Tags {
  return TAGS.flatMap((name) => {
    const key = name === "Ref" ? name : `Fn::${name}`;
    const scalar = (value: string) => {
      const dot = value.indexOf(".");
      return { [key]: name === "GetAtt" && dot > 0 ? [value.slice(0, dot), value.slice(dot + 1)] : value };
    };
    return [
      { tag: `!${name}`, resolve: scalar },
      {
        tag: `!${name}`,
        collection: "seq" as const,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      },
      {
        tag: `!${name}`,
        collection: "map" as const,
        resolve: (value: { toJSON(): unknown }) => ({ [key]: value.toJSON() }),
      },
    ];
  });
}

export function readTemplate(path: string): Template {
  return parse(readFileSync(path, "utf8"), { customTags: cloudFormationTags() }) as Template;
}

/** A function's properties with Globals.Function applied (environment variables merged), as SAM does. */
export function templateFunction(template: Template, logicalId: string) {
  const globals = template.Globals?.Function ?? {};
  const own = template.Resources[logicalId]?.Properties ?? {};
  const variables = (source: Record<string, unknown>) =>
    (source.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const properties: Record<string, unknown> = { ...globals, ...own };
  return {
    handler: String(properties.Handler),
    runtime: properties.Runtime as string | undefined,
    codeUri: properties.CodeUri as string | undefined,
    timeoutSeconds: Number(properties.Timeout ?? 3),
    environment: { ...variables(globals), ...variables(own) },
    properties,
  };
}
