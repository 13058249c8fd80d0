import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseSamTemplate, samFunction } from "../template/sam-template.ts";
import { FunctionWorker } from "./function-worker.ts";
import { lambdaRuntimeEnvironment, workerSettings } from "./runtime-environment.ts";

// A tiny function (no build, no database): it answers with what it sees, or hangs holding memory.
const taskRoot = mkdtempSync(join(tmpdir(), "function-worker-"));
writeFileSync(
  join(taskRoot, "index.mjs"),
  `export const handler = async (event) => {
     console.log("handler ran");
     if (event.hang) { globalThis.held = Buffer.alloc(64 * 1024 * 1024, 1); await new Promise(() => {}); }
     return { samLocal: process.env.AWS_SAM_LOCAL };
   };`,
);
const definition = samFunction(
  parseSamTemplate(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: { Handler: index.handler, Runtime: nodejs24.x, Timeout: 1, MemorySize: 256 }
`),
  "Fn",
);

let worker: FunctionWorker | undefined;
afterEach(() => worker?.stop());

function start(): { worker: FunctionWorker; logs: () => string } {
  let logs = "";
  const env = lambdaRuntimeEnvironment(definition, taskRoot, { PATH: process.env.PATH });
  worker = new FunctionWorker({
    ...workerSettings(definition, env),
    logSink: (chunk) => (logs += chunk.toString()),
  });
  return { worker, logs: () => logs };
}

describe("an execution environment's log stream, as Lambda writes it", () => {
  it("START before the function's output, END and REPORT after it; AWS_SAM_LOCAL=true", async () => {
    const { worker, logs } = start();
    const cold = await worker.invoke({});
    const warm = await worker.invoke({});
    expect(cold.result).toEqual({ status: "ok", response: { samLocal: "true" } });
    const lines = logs().trimEnd().split("\n");
    const report = (id: string, init: string) =>
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: [\\d.]+ ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: [1-9]\\d* MB${init}$`,
      );
    expect(lines[0]).toBe(`START RequestId: ${cold.requestId} Version: $LATEST`);
    expect(lines[1]).toMatch(/handler ran/);
    expect(lines[2]).toBe(`END RequestId: ${cold.requestId}`);
    expect(lines[3]).toMatch(report(cold.requestId, "\\tInit Duration: [\\d.]+ ms"));
    expect(lines[4]).toBe(`START RequestId: ${warm.requestId} Version: $LATEST`);
    expect(lines[6]).toBe(`END RequestId: ${warm.requestId}`);
    expect(lines[7]).toMatch(report(warm.requestId, ""));
  });

  it("a timeout: Lambda's timeout line, END, REPORT with Status: timeout and the memory it used", async () => {
    const { worker, logs } = start();
    const timedOut = await worker.invoke({ hang: true });
    expect(timedOut.result).toEqual({ status: "timeout" });
    // It held 64 MB when it was stopped: the report says at least that, as Lambda's does.
    expect(timedOut.maxMemoryUsedMb).toBeGreaterThanOrEqual(64);
    const lines = logs().trimEnd().split("\n");
    const id = timedOut.requestId;
    expect(lines.at(-3)).toMatch(new RegExp(`^\\S+Z ${id} Task timed out after 1\\.00 seconds$`));
    expect(lines.at(-2)).toBe(`END RequestId: ${id}`);
    expect(lines.at(-1)).toMatch(
      new RegExp(
        `^REPORT RequestId: ${id}\\tDuration: 1000\\.00 ms\\tBilled Duration: 1000 ms\\tMemory Size: 256 MB\\tMax Memory Used: (6[4-9]|[7-9]\\d|\\d{3,}) MB\\tInit Duration: [\\d.]+ ms\\tStatus: timeout$`,
      ),
    );
  });
});
