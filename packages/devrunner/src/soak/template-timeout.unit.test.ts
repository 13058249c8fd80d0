import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseSamTemplate, samFunction } from "../local-aws/template/sam-template.ts";
import { describe, expect, it } from "vitest";
import { withTimeout } from "./template-timeout.ts";

const projectTemplate = readFileSync(resolve(import.meta.dirname, "../../../../template.yaml"), "utf8");

describe("withTimeout: a template copy with another Timeout for one function", () => {
  it("replaces EntityFunction's Timeout and nothing else in the project's template", () => {
    const copy = withTimeout(projectTemplate, "EntityFunction", 5);
    const template = parseSamTemplate(copy);
    expect(samFunction(template, "EntityFunction").timeoutSeconds).toBe(5);
    expect(samFunction(template, "OutboxRelayFunction").timeoutSeconds).toBe(60);
    expect(samFunction(template, "MigrationFunction").timeoutSeconds).toBe(300);
    const changed = copy.split("\n").filter((line, i) => line !== projectTemplate.split("\n")[i]);
    expect(changed).toEqual(["      Timeout: 5"]);
  });

  it("adds a Timeout to a function that has none", () => {
    const text = [
      "Resources:",
      "  Fn:",
      "    Type: AWS::Serverless::Function",
      "    Properties:",
      "      Handler: index.handler",
      "  Other:",
      "    Type: AWS::Serverless::Function",
      "    Properties:",
      "      Timeout: 9",
      "",
    ].join("\n");
    const template = parseSamTemplate(withTimeout(text, "Fn", 4));
    expect(samFunction(template, "Fn").timeoutSeconds).toBe(4);
    expect(samFunction(template, "Other").timeoutSeconds).toBe(9);
  });

  it("says which resource it cannot find", () => {
    expect(() => withTimeout(projectTemplate, "NoSuchFunction", 5)).toThrow(/no resource NoSuchFunction/);
  });
});
