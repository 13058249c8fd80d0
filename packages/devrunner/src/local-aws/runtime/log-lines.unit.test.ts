import { describe, expect, it } from "vitest";
import { parseSamTemplate, samFunction } from "../template/sam-template.ts";
import { endLine, megabytes, reportLine, startLine, timeoutLine } from "./log-lines.ts";
import { lambdaRuntimeEnvironment } from "./runtime-environment.ts";

const id = "8f5c3c1e-6f0e-4d4a-9b8e-1f2d3c4b5a69";

describe("Lambda's log lines", () => {
  it("START and END as Lambda writes them", () => {
    expect(startLine(id)).toBe(`START RequestId: ${id} Version: $LATEST`);
    expect(endLine(id)).toBe(`END RequestId: ${id}`);
  });

  it("REPORT: tab-separated, Lambda's field order, Init Duration only on a cold start", () => {
    const warm = { requestId: id, durationMs: 12.344, memorySizeMb: 512, maxMemoryUsedMb: 91 };
    expect(reportLine(warm)).toBe(
      `REPORT RequestId: ${id}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB`,
    );
    expect(reportLine({ ...warm, initDurationMs: 250.5 })).toBe(
      `${reportLine(warm)}\tInit Duration: 250.50 ms`,
    );
  });

  it("a timeout: Lambda's line, and REPORT says Status: timeout", () => {
    const at = new Date("2026-11-27T08:00:00.000Z");
    expect(timeoutLine(id, 3, at)).toBe(`2026-11-27T08:00:00.000Z ${id} Task timed out after 3.00 seconds`);
    expect(
      reportLine({ requestId: id, durationMs: 3000, memorySizeMb: 128, maxMemoryUsedMb: 80, timedOut: true }),
    ).toMatch(
      /\tDuration: 3000\.00 ms\tBilled Duration: 3000 ms\t.*\tMax Memory Used: 80 MB\tStatus: timeout$/,
    );
  });

  it("memory in MB, rounded up from kilobytes", () => {
    expect(megabytes(1)).toBe(1);
    expect(megabytes(92_160)).toBe(90);
    expect(megabytes(92_161)).toBe(91);
  });
});

describe("the function's environment", () => {
  it("has AWS_SAM_LOCAL=true, as `sam local` sets it", () => {
    const template = parseSamTemplate(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: { Handler: index.handler, Runtime: nodejs24.x }
`);
    const env = lambdaRuntimeEnvironment(samFunction(template, "Fn"), "/task", {});
    expect(env.AWS_SAM_LOCAL).toBe("true");
  });
});
