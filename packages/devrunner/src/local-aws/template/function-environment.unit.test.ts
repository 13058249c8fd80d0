import { parseSamTemplate, samFunction } from "./sam-template.ts";
import { describe, expect, it } from "vitest";
import {
  functionEnvironmentName,
  resolveFunctionEnvironment,
  type FunctionEnvironmentSources,
} from "./function-environment.ts";

const template = parseSamTemplate(`
Parameters:
  Env: { Type: String, Default: dev }
  DbHost: { Type: String }
Resources:
  Queue: { Type: AWS::SQS::Queue }
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Environment:
        Variables:
          ENV: !Ref Env
          DB_HOST: !Ref DbHost
          DB_POOL_MAX: "1"
          QUEUE_URL: !Ref Queue
`);

function resolve(
  overrides: Partial<FunctionEnvironmentSources> = {},
): ReturnType<typeof resolveFunctionEnvironment> {
  return resolveFunctionEnvironment({
    template,
    definition: samFunction(template, "Fn"),
    templateLabel: "template.yaml",
    parameterOverrides: {},
    envVars: undefined,
    envVarsLabel: undefined,
    hostEnv: {},
    ...overrides,
  });
}

describe("the function's environment and where each value came from", () => {
  it("takes parameter defaults and literals from the template; resources stay unresolved without a cloud", () => {
    const environment = resolve();
    expect(environment.values).toEqual({ ENV: "dev", DB_POOL_MAX: "1" });
    expect(environment.origins.ENV).toBe("the default of parameter Env in template.yaml");
    expect(environment.origins.DB_POOL_MAX).toBe("template.yaml (Fn Environment)");
    expect(environment.unresolved).toEqual(["DB_HOST", "QUEUE_URL"]);
  });

  it("lets --parameter-overrides, the environment's DB_* and the env-vars file win, in that order", () => {
    const environment = resolve({
      parameterOverrides: { Env: "prod", DbHost: "override.example" },
      hostEnv: { DB_HOST: "host.example", ENV: "ignored" },
      envVars: { Parameters: { DB_POOL_MAX: 3, UNDECLARED: "x" }, Fn: { DB_POOL_MAX: 4, ENV: null } },
      envVarsLabel: "f.json",
      resolveResource: (id) => `https://sqs.local/${id}`,
    });
    expect(environment.values).toEqual({
      ENV: "prod",
      DB_HOST: "host.example",
      DB_POOL_MAX: "4",
      QUEUE_URL: "https://sqs.local/Queue",
    });
    expect(environment.origins).toMatchObject({
      ENV: "--parameter-overrides Env=prod",
      DB_HOST: "the environment",
      DB_POOL_MAX: "env-vars file f.json (Fn)",
    });
    expect(environment.dropped).toEqual([{ name: "UNDECLARED", section: "Parameters" }]);
    expect(environment.unresolved).toEqual([]);
  });

  it("names the env-vars file's section the ENV came from, for the production guard", () => {
    const fromParameters = resolve({ envVars: { Parameters: { ENV: "prd" } }, envVarsLabel: "f.json" });
    expect(functionEnvironmentName(fromParameters)).toEqual([
      { variable: "ENV", value: "prd", origin: "env-vars file f.json (Parameters)" },
    ]);
  });
});
