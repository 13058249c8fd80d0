/**
 * What an SQS record's body may be: the key itself, JSON `{"entity": "KEY"}`, or an SNS notification
 * envelope (SNS -> SQS without raw delivery) whose `Message` is one of those two.
 */
export type DecodedBody =
  | { readonly ok: true; readonly key: string; readonly format: BodyFormat }
  | { readonly ok: false; readonly code: UndecodableBodyCode; readonly reason: string };

export type BodyFormat = "plain" | "json" | "sns" | "sns+json";
export type UndecodableBodyCode =
  "MALFORMED_JSON" | "MISSING_ENTITY" | "MALFORMED_SNS_ENVELOPE" | "MISSING_BODY";

export function decodeRecordBody(body: string): DecodedBody {
  const outer = decodeKeyOrJson(body, "body");
  if (!outer.ok || outer.kind === "key")
    return outer.ok ? { ok: true, key: outer.key, format: outer.format } : outer;
  const json = outer.value;
  if (
    isObject(json) &&
    (json.Type !== undefined || json.TopicArn !== undefined) &&
    json.entity === undefined
  ) {
    if (json.Type !== "Notification") {
      return undecodable(
        "MISSING_ENTITY",
        `SNS message of type ${JSON.stringify(json.Type)} carries no entity`,
      );
    }
    if (typeof json.Message !== "string") {
      return undecodable("MALFORMED_SNS_ENVELOPE", "SNS notification without a string 'Message'");
    }
    const inner = decodeKeyOrJson(json.Message, "SNS Message");
    if (!inner.ok) return inner;
    if (inner.kind === "key") return { ok: true, key: inner.key, format: "sns" };
    const entity = entityField(inner.value, "SNS Message");
    return entity.ok ? { ok: true, key: entity.key, format: "sns+json" } : entity;
  }
  const entity = entityField(json, "body");
  return entity.ok ? { ok: true, key: entity.key, format: "json" } : entity;
}

type KeyOrJson =
  | { ok: true; kind: "key"; key: string; format: "plain" | "json" }
  | { ok: true; kind: "json"; value: unknown }
  | { ok: false; code: UndecodableBodyCode; reason: string };

function decodeKeyOrJson(text: string, where: string): KeyOrJson {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{") && !trimmed.startsWith('"') && !trimmed.startsWith("[")) {
    // Anything else is taken as the key itself; the domain says what is wrong with it, if anything.
    return { ok: true, kind: "key", key: text, format: "plain" };
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return undecodable(
      "MALFORMED_JSON",
      `${where} looks like JSON but does not parse: ${(error as Error).message}`,
    );
  }
  if (typeof value === "string") return { ok: true, kind: "key", key: value, format: "json" };
  return { ok: true, kind: "json", value };
}

function entityField(
  value: unknown,
  where: string,
): { ok: true; key: string } | { ok: false; code: UndecodableBodyCode; reason: string } {
  if (!isObject(value)) {
    return undecodable(
      "MISSING_ENTITY",
      `${where} is JSON ${Array.isArray(value) ? "array" : typeof value}, expected {"entity": "KEY"}`,
    );
  }
  if (typeof value.entity !== "string") {
    return undecodable(
      "MISSING_ENTITY",
      value.entity === undefined
        ? `${where} is JSON without an 'entity' field`
        : `${where} has 'entity' of type ${value.entity === null ? "null" : typeof value.entity}, expected a string`,
    );
  }
  return { ok: true, key: value.entity };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function undecodable(
  code: UndecodableBodyCode,
  reason: string,
): { ok: false; code: UndecodableBodyCode; reason: string } {
  return { ok: false, code, reason };
}
