import { parseSamTemplate } from "../template/sam-template.ts";
import { describe, expect, it } from "vitest";
import { ratePeriodMs, scheduledFunctions } from "./schedules.ts";

describe("schedules of the template", () => {
  it("reads rate() expressions, and nothing else, as a period", () => {
    expect(ratePeriodMs("rate(1 minute)")).toBe(60_000);
    expect(ratePeriodMs("rate(5 minutes)")).toBe(300_000);
    expect(ratePeriodMs("rate(2 hours)")).toBe(7_200_000);
    expect(ratePeriodMs("rate(1 day)")).toBe(86_400_000);
    expect(ratePeriodMs("rate(0 minutes)")).toBeUndefined();
    expect(ratePeriodMs("cron(0 12 * * ? *)")).toBeUndefined();
    expect(ratePeriodMs("every minute")).toBeUndefined();
  });

  it("finds the functions with a Schedule or ScheduleV2 event, skipping disabled ones", () => {
    const template = parseSamTemplate(`
Parameters:
  Every: { Type: String, Default: "rate(10 minutes)" }
Resources:
  Relay:
    Type: AWS::Serverless::Function
    Properties: { Handler: relay.handler, Events: { Tick: { Type: Schedule, Properties: { Schedule: !Ref Every } } } }
  Report:
    Type: AWS::Serverless::Function
    Properties: { Handler: r.handler, Events: { Nightly: { Type: ScheduleV2, Properties: { ScheduleExpression: "cron(0 2 * * ? *)" } } } }
  Off:
    Type: AWS::Serverless::Function
    Properties: { Handler: o.handler, Events: { Tick: { Type: Schedule, Properties: { Schedule: "rate(1 minute)", Enabled: false } } } }
  Worker:
    Type: AWS::Serverless::Function
    Properties: { Handler: w.handler, Events: { Queue: { Type: SQS, Properties: { Queue: arn } } } }
`);
    const resolve = (raw: unknown) => (typeof raw === "string" ? raw : "rate(10 minutes)");
    expect(
      scheduledFunctions(template, resolve).map((s) => [s.definition.logicalId, s.expression, s.periodMs]),
    ).toEqual([
      ["Relay", "rate(10 minutes)", 600_000],
      ["Report", "cron(0 2 * * ? *)", undefined],
    ]);
  });
});
