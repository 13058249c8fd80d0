import { describe, expect, it } from "vitest";
import { localAwsConfig } from "./config.ts";
import { parseSamTemplate, samFunction } from "./template/sam-template.ts";
import { lambdaRuntimeEnvironment } from "./runtime/runtime-environment.ts";
import { sampleSqsEvent } from "./sample-events.ts";

const KEY = "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249";

describe("one region everywhere", () => {
  it("the config's region: given (--region), else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1", () => {
    const root = { repositoryRoot: "/repo" };
    expect(localAwsConfig({ AWS_REGION: "eu-west-1" }, { ...root, region: "ap-south-1" }).region).toBe(
      "ap-south-1",
    );
    expect(localAwsConfig({ AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-north-1" }, root).region).toBe(
      "eu-west-1",
    );
    expect(localAwsConfig({ AWS_DEFAULT_REGION: "eu-north-1" }, root).region).toBe("eu-north-1");
    expect(localAwsConfig({}, root).region).toBe("us-east-1");
  });

  it("the event (`event`) and the function's environment (`invoke`, `up`) use it", () => {
    const region = localAwsConfig({ AWS_REGION: "eu-central-1" }, { repositoryRoot: "/repo" }).region;
    const [record] = sampleSqsEvent("sqs", [KEY], { region }).Records;
    expect(record).toMatchObject({
      awsRegion: "eu-central-1",
      eventSourceARN: "arn:aws:sqs:eu-central-1:123456789012:entity-queue",
    });
    const definition = samFunction(
      parseSamTemplate(
        "Resources:\n  Fn: { Type: AWS::Serverless::Function, Properties: { Handler: i.h } }\n",
      ),
      "Fn",
    );
    // The host's AWS_REGION does not win over the config's.
    const env = lambdaRuntimeEnvironment(definition, "/task", { AWS_REGION: "us-west-2" }, region);
    expect([env.AWS_REGION, env.AWS_DEFAULT_REGION]).toEqual(["eu-central-1", "eu-central-1"]);
  });

  it("--account-id and --queue-name, like sam local generate-event; SNS envelopes name the same region", () => {
    const origin = { region: "eu-west-3", accountId: "210987654321", queueName: "orders" };
    const [plain] = sampleSqsEvent("sqs", [KEY], origin).Records;
    expect(plain?.eventSourceARN).toBe("arn:aws:sqs:eu-west-3:210987654321:orders");
    const [sns] = sampleSqsEvent("sns", [KEY], { region: "eu-west-3", accountId: "210987654321" }).Records;
    expect(JSON.parse(sns!.body)).toMatchObject({
      TopicArn: "arn:aws:sns:eu-west-3:210987654321:entity-topic",
      SigningCertURL: expect.stringContaining("https://sns.eu-west-3.amazonaws.com/") as unknown,
      Message: KEY,
    });
    const [fifo] = sampleSqsEvent("fifo", [KEY], { region: "eu-west-3" }).Records;
    expect(fifo?.eventSourceARN).toBe("arn:aws:sqs:eu-west-3:123456789012:entity-queue.fifo");
  });
});
