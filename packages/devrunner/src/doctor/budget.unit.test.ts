import { parseSamTemplate } from "../local-aws/template/sam-template.ts";
import { describe, expect, it } from "vitest";
import {
  connectionsLeft,
  functionDemand,
  judgeBudget,
  templateConnections,
  type FunctionConnections,
} from "./budget.ts";

const PG17 = { maxConnections: 100, superuserReservedConnections: 3, reservedConnections: 2, inUse: 15 };

const sqs = (
  logicalId: string,
  maximumConcurrency: number | undefined,
  poolSize = 1,
): FunctionConnections => ({
  logicalId,
  poolSize,
  triggers: [{ kind: "sqs", event: "Queue", maximumConcurrency }],
  reservedConcurrency: undefined,
  problems: [],
});

describe("connection budget arithmetic", () => {
  it("leaves max_connections less both reserves and the sessions in use; PostgreSQL < 16 has no reserved_connections", () => {
    expect(connectionsLeft(PG17)).toBe(80);
    expect(connectionsLeft({ ...PG17, reservedConnections: undefined })).toBe(82);
  });

  it("counts SQS as MaximumConcurrency x pool and a schedule as 1 x pool; ReservedConcurrentExecutions caps", () => {
    expect(functionDemand(sqs("A", 5, 2))).toMatchObject({
      connections: 10,
      arithmetic: "SQS 5 x pool 2 = 10",
    });
    const both: FunctionConnections = {
      logicalId: "B",
      poolSize: 3,
      triggers: [
        { kind: "sqs", event: "Q1", maximumConcurrency: 4 },
        { kind: "schedule", event: "Tick" },
      ],
      reservedConcurrency: undefined,
      problems: [],
    };
    expect(functionDemand(both)).toMatchObject({
      connections: 15,
      arithmetic: "(SQS 4 + schedule 1) x pool 3 = 15",
    });
    expect(functionDemand({ ...both, reservedConcurrency: 2 })).toMatchObject({
      connections: 6,
      arithmetic: "min(SQS 4 + schedule 1, reserved 2) x pool 3 = 6",
    });
    expect(functionDemand(sqs("C", undefined)).connections).toBe(Infinity);
    expect(functionDemand({ ...sqs("C", undefined), reservedConcurrency: 7 }).connections).toBe(7);
  });

  it("is ok up to 80 % of what is left, warns above, fails above 100 %", () => {
    expect(judgeBudget([sqs("A", 64)], PG17)).toMatchObject({
      verdict: "ok",
      summary:
        "demand 64 (A: SQS 64 x pool 1 = 64) of 80 left (max_connections 100 - superuser_reserved_connections 3 - reserved_connections 2 - in use 15): 80 %",
    });
    expect(judgeBudget([sqs("A", 60), sqs("B", 5)], PG17)).toMatchObject({
      verdict: "warn",
      summary: expect.stringMatching(
        /^demand 65 \(A: .*; B: SQS 5 x pool 1 = 5\) of 80 left .*: 81 %, over 80 %$/,
      ) as unknown,
    });
    expect(judgeBudget([sqs("A", 81)], PG17)).toMatchObject({
      verdict: "fail",
      summary: expect.stringMatching(
        /^demand 81 \(A: SQS 81 x pool 1 = 81\) exceeds the 80 left \(/,
      ) as unknown,
      details: expect.objectContaining({ demand: 81, left: 80 }) as unknown,
    });
  });

  it("fails an unbounded SQS source and values it cannot read; warns about triggers it cannot count", () => {
    expect(judgeBudget([sqs("A", undefined)], PG17)).toMatchObject({
      verdict: "fail",
      summary: expect.stringMatching(
        /demand unbounded .*without ScalingConfig\.MaximumConcurrency/,
      ) as unknown,
    });
    expect(
      judgeBudget([{ ...sqs("A", 2), problems: ["A: DB_POOL_MAX 'x' is not a positive whole number"] }], PG17)
        .verdict,
    ).toBe("fail");
    const api: FunctionConnections = {
      ...sqs("A", 2),
      triggers: [...sqs("A", 2).triggers, { kind: "other", event: "Http", type: "Api" }],
    };
    expect(judgeBudget([api], PG17)).toMatchObject({
      verdict: "warn",
      summary: expect.stringMatching(/: 3 %; not counted: A Http \(Api\)$/) as unknown,
    });
    expect(judgeBudget([sqs("A", 1)], { ...PG17, inUse: 95 }).verdict).toBe("fail");
  });
});

describe("reading the budget from a template", () => {
  const template = parseSamTemplate(`
Parameters:
  Concurrency: { Type: Number, Default: 5 }
Globals:
  Function:
    Environment:
      Variables:
        DB_HOST: db
Resources:
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Q: { Type: SQS, Properties: { Queue: arn, ScalingConfig: { MaximumConcurrency: !Ref Concurrency } } }
  Relay:
    Type: AWS::Serverless::Function
    Properties:
      ReservedConcurrentExecutions: 1
      Events:
        Tick: { Type: Schedule, Properties: { Schedule: rate(1 minute) } }
        Later: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(5 minutes) } }
  Unbounded:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Q: { Type: SQS, Properties: { Queue: arn } }
  NoDatabase:
    Type: AWS::Serverless::Function
    Properties:
      Environment: { Variables: { DB_HOST: !Ref AWS::NoValue } }
  Queue: { Type: AWS::SQS::Queue }
`);

  it("takes every function that connects, its events, reserved concurrency and pool size", () => {
    const pools: Record<string, string> = { Worker: "2", Relay: "1", Unbounded: "1", NoDatabase: "1" };
    const functions = templateConnections(template, { Concurrency: "7" }, (id) => pools[id]);
    expect(functions.map((fn) => [fn.logicalId, functionDemand(fn).arithmetic])).toEqual([
      ["Worker", "SQS 7 x pool 2 = 14"],
      ["Relay", "min(schedule 1 + schedule 1, reserved 1) x pool 1 = 1"],
      ["Unbounded", "SQS unbounded x pool 1 = unbounded"],
      ["NoDatabase", "no SQS or schedule event = 0"],
    ]);
  });

  it("names a pool size or a concurrency it cannot read", () => {
    const [worker] = templateConnections(template, { Concurrency: "many" }, () => "zero");
    expect(worker?.problems).toEqual([
      "Worker: Q MaximumConcurrency many is not a whole number",
      "Worker: DB_POOL_MAX 'zero' is not a positive whole number",
    ]);
  });
});
