import { describe, expect, it } from "vitest";
import { parseSamTemplate, samFunction } from "../template/sam-template.ts";
import { architectureNote, noteArchitectureOnce } from "./architecture.ts";

const fn = (architectures: string) =>
  samFunction(
    parseSamTemplate(`
Globals:
  Function:
    ${architectures}
Resources:
  EntityFunction:
    Type: AWS::Serverless::Function
    Properties: { Handler: index.handler }
`),
    "EntityFunction",
  );

describe("Architectures on another host", () => {
  it("says the function runs on the host's architecture, only when they differ", () => {
    expect(architectureNote(fn("Architectures: [arm64]"), "x64")).toBe(
      "note: EntityFunction declares Architectures: [arm64]; it runs here on this machine's architecture (x86_64)",
    );
    expect(architectureNote(fn("Architectures: [arm64]"), "arm64")).toBeUndefined();
    // Lambda's default is x86_64.
    expect(architectureNote(fn("Runtime: nodejs24.x"), "x64")).toBeUndefined();
    expect(architectureNote(fn("Runtime: nodejs24.x"), "arm64")).toMatch(/\[x86_64\].*\(arm64\)/);
  });

  it("once per function, however often it is prepared (watch)", () => {
    const notes: string[] = [];
    const definition = fn("Architectures: [arm64]");
    for (let run = 0; run < 3; run++) noteArchitectureOnce(definition, (text) => notes.push(text), "x64");
    expect(notes).toHaveLength(1);
  });
});
