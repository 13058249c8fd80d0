import { describe, expect, it } from "vitest";
import { decodeRecordBody } from "./record-body.ts";

const KEY = "MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249";

function envelope(message: string, extra: Record<string, unknown> = {}, pretty = true): string {
  const body = {
    Type: "Notification",
    MessageId: "m",
    TopicArn: "arn:aws:sns:eu-west-1:1:t",
    Message: message,
    ...extra,
  };
  return JSON.stringify(body, null, pretty ? 2 : 0);
}

describe("decodeRecordBody", () => {
  it("takes a plain body as the key itself, untouched (the domain judges it)", () => {
    expect(decodeRecordBody(KEY)).toEqual({ ok: true, key: KEY, format: "plain" });
    expect(decodeRecordBody(" lower_case ")).toEqual({ ok: true, key: " lower_case ", format: "plain" });
    expect(decodeRecordBody("")).toEqual({ ok: true, key: "", format: "plain" });
  });

  it('reads JSON {"entity": KEY} and a JSON string', () => {
    expect(decodeRecordBody(JSON.stringify({ entity: KEY, other: 1 }))).toEqual({
      ok: true,
      key: KEY,
      format: "json",
    });
    expect(decodeRecordBody(JSON.stringify(KEY))).toEqual({ ok: true, key: KEY, format: "json" });
  });

  it("unwraps a pretty-printed SNS envelope whose Subject is null, absent or set", () => {
    expect(decodeRecordBody(envelope(KEY, { Subject: null }))).toEqual({ ok: true, key: KEY, format: "sns" });
    expect(decodeRecordBody(envelope(KEY))).toEqual({ ok: true, key: KEY, format: "sns" });
    expect(decodeRecordBody(envelope(KEY, { Subject: "hello" }, false))).toEqual({
      ok: true,
      key: KEY,
      format: "sns",
    });
  });

  it("unwraps an SNS envelope around JSON, and a FIFO envelope without signature fields", () => {
    expect(
      decodeRecordBody(envelope(JSON.stringify({ entity: KEY }), { Signature: "x", SignatureVersion: "1" })),
    ).toEqual({
      ok: true,
      key: KEY,
      format: "sns+json",
    });
    expect(decodeRecordBody(envelope(KEY, { SequenceNumber: "10000000000000003000" }))).toEqual({
      ok: true,
      key: KEY,
      format: "sns",
    });
  });

  it.each([
    ["{not json", "MALFORMED_JSON", /body looks like JSON but does not parse/],
    ['{"entity": 42}', "MISSING_ENTITY", /'entity' of type number, expected a string/],
    ['{"entity": null}', "MISSING_ENTITY", /'entity' of type null/],
    ['{"name": "x"}', "MISSING_ENTITY", /without an 'entity' field/],
    ["[1,2]", "MISSING_ENTITY", /JSON array, expected/],
    [envelope("{broken"), "MALFORMED_JSON", /SNS Message looks like JSON but does not parse/],
    [
      JSON.stringify({ Type: "Notification", TopicArn: "arn" }),
      "MALFORMED_SNS_ENVELOPE",
      /without a string 'Message'/,
    ],
    [
      JSON.stringify({ Type: "SubscriptionConfirmation", TopicArn: "arn", Message: "x" }),
      "MISSING_ENTITY",
      /SubscriptionConfirmation/,
    ],
    [
      envelope(JSON.stringify({ nope: 1 })),
      "MISSING_ENTITY",
      /SNS Message is JSON without an 'entity' field/,
    ],
  ])("rejects %j as %s with a reason", (body, code, reason) => {
    const decoded = decodeRecordBody(body);
    expect(decoded).toMatchObject({ ok: false, code });
    expect(decoded.ok ? "" : decoded.reason).toMatch(reason);
  });
});
