import { describe, expect, it } from "vitest";
import { LocalAwsError } from "../errors.ts";
import { parseSamTemplate, samFunction } from "../template/sam-template.ts";
import type { LocalCloud, LocalQueue } from "./local-cloud.ts";
import { eventSourceOf } from "./mapping-settings.ts";

const template = parseSamTemplate(`
Resources:
  EntityQueue:
    Type: AWS::SQS::Queue
    Properties: { VisibilityTimeout: 180 }
  EntityFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: index.handler
      Timeout: 30
      Events:
        Queue: { Type: SQS, Properties: { Queue: !GetAtt EntityQueue.Arn, BatchSize: 10 } }
`);
const definition = samFunction(template, "EntityFunction");

/** The slice of a local cloud the mapping reads: the queue, and its visibility timeout as the emulator has it. */
function cloudWithVisibilityTimeout(seconds: number): LocalCloud {
  const queue: LocalQueue = {
    logicalId: "EntityQueue",
    name: "EntityQueue",
    url: "http://127.0.0.1:1/123456789012/EntityQueue",
    arn: "arn:aws:sqs:us-east-1:123456789012:EntityQueue",
  };
  return {
    queues: new Map([[queue.logicalId, queue]]),
    region: "us-east-1",
    resolveResource: (id: string, attribute?: string) =>
      id === queue.logicalId ? (attribute === "Arn" ? queue.arn : queue.url) : undefined,
    server: { inspectQueue: () => ({ attributes: { VisibilityTimeout: String(seconds) } }) },
  } as unknown as LocalCloud;
}

const options = (overridden: boolean) => ({
  parameterOverrides: {},
  visibilityTimeoutOverridden: overridden,
});

describe("the SQS event source, as AWS would map it", () => {
  it("refuses a visibility timeout below the function's Timeout (up --visibility-timeout or the template)", () => {
    const refuse = (overridden: boolean) => () =>
      eventSourceOf(template, definition, cloudWithVisibilityTimeout(29), options(overridden));
    expect(refuse(true)).toThrow(LocalAwsError);
    expect(refuse(true)).toThrow(
      /visibility timeout of EntityQueue \(29 s, from the override \(up --visibility-timeout\)\) is below EntityFunction's Timeout \(30 s\)/,
    );
    expect(refuse(false)).toThrow(/from EntityQueue's VisibilityTimeout in the template/);
  });

  it("takes one equal to the Timeout or above", () => {
    for (const seconds of [30, 180])
      expect(
        eventSourceOf(template, definition, cloudWithVisibilityTimeout(seconds), options(true)).settings,
      ).toMatchObject({ batchSize: 10, queueArn: "arn:aws:sqs:us-east-1:123456789012:EntityQueue" });
  });
});
