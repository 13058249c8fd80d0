import { describe, expect, it } from "vitest";
import { customResourceResponse, readCustomResourceEvent } from "./custom-resource.ts";

const EVENT = {
  RequestType: "Update",
  ResponseURL: "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=y",
  StackId: "arn:aws:cloudformation:eu-west-1:123456789012:stack/entity-function-dev/abc",
  RequestId: "7bfe2d54",
  LogicalResourceId: "SchemaMigration",
  PhysicalResourceId: "schema-entities",
  ResourceType: "Custom::SchemaMigration",
  ResourceProperties: { ServiceToken: "arn:aws:lambda:eu-west-1:123456789012:function:m:live" },
};

describe("the custom-resource protocol", () => {
  it("refuses an event nobody could be answered for, naming what is missing", () => {
    expect(() => readCustomResourceEvent({})).toThrow(
      /^not a CloudFormation custom-resource event: ResponseURL, StackId, RequestId, LogicalResourceId missing/,
    );
    expect(() => readCustomResourceEvent({ ...EVENT, ResponseURL: "" })).toThrow(/: ResponseURL missing/);
  });

  it("echoes the request's ids, and on Update its PhysicalResourceId over the one the outcome names", () => {
    const response = customResourceResponse(
      readCustomResourceEvent(EVENT),
      { status: "SUCCESS", reason: "ok", physicalResourceId: "schema-other", data: { Latest: "m1" } },
      "unused",
      "stream",
    );
    expect(response).toEqual({
      Status: "SUCCESS",
      Reason: "ok",
      PhysicalResourceId: "schema-entities",
      StackId: EVENT.StackId,
      RequestId: EVENT.RequestId,
      LogicalResourceId: "SchemaMigration",
      Data: { Latest: "m1" },
    });
  });

  it("keeps the answer under CloudFormation's 4,096 bytes, cutting the reason's end, and says where the logs are", () => {
    const create = readCustomResourceEvent({
      ...EVENT,
      RequestType: "Create",
      PhysicalResourceId: undefined,
    });
    const reason = `migration m1 failed: ${'"quoted" é '.repeat(2000)}`;
    const response = customResourceResponse(
      create,
      {
        status: "FAILED",
        reason,
        physicalResourceId: "schema-entities",
        data: { Applied: "x".repeat(3000) },
      },
      "unused",
      "2026/11/27/[$LATEST]abc",
    );
    expect(Buffer.byteLength(JSON.stringify(response))).toBeLessThanOrEqual(4096);
    expect(response.Reason).toMatch(
      /^migration m1 failed: "quoted" é .* \[truncated\] \(log stream 2026\/11\/27\/\[\$LATEST\]abc\)$/,
    );
    expect(response.Data).toEqual({});
    expect(response.PhysicalResourceId).toBe("schema-entities");
    const short = customResourceResponse(
      create,
      { status: "FAILED", reason: "no" },
      "SchemaMigration-not-created",
      "s1",
    );
    expect(short).toMatchObject({
      Reason: "no (log stream s1)",
      PhysicalResourceId: "SchemaMigration-not-created",
    });
  });
});
