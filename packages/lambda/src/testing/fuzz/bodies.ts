import fc from "fast-check";
import { rawKey } from "./keys.ts";
import { referenceKey } from "./reference.ts";

/** What a record must end as, decided when its body is made. */
export type Expectation =
  /** Stored under this canonical key (or already stored: a duplicate). */
  | { readonly kind: "stored"; readonly key: string }
  /** Set aside with a reason: no documented reading of the body is a valid key. */
  | { readonly kind: "dead-lettered" }
  /** Open (random or ambiguous bodies): either set aside, or stored as one of `possibleKeys(body)`. */
  | { readonly kind: "either" };

export interface BodyCase {
  readonly body: string;
  /** How the body was made, for the report. */
  readonly shape: string;
  readonly expected: Expectation;
}

const carrying = (key: string, body: string, shape: string): BodyCase => {
  const valid = referenceKey(key);
  return { body, shape, expected: valid ? { kind: "stored", key: valid.key } : { kind: "dead-lettered" } };
};
const deadLetter = (body: string, shape: string): BodyCase => ({
  body,
  shape,
  expected: { kind: "dead-lettered" },
});
const open = (body: string, shape: string): BodyCase => ({ body, shape, expected: { kind: "either" } });

// ---- SNS envelopes (SNS -> SQS without raw message delivery) ----

export const unicodeText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", "Grüße", "😀 entity", "\u202Eevil", "\u0000", "\uD800", "line\nbreak", '"quoted"'),
);
const snsAttributes = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.oneof(
    fc.record({ Type: fc.constant("String"), Value: unicodeText }),
    fc.record({ Type: fc.constant("Number"), Value: fc.double({ noNaN: true }).map(String) }),
    fc.record({ Type: fc.constant("Binary"), Value: fc.base64String({ maxLength: 24 }) }),
    fc.record({
      Type: fc.constant("String.Array"),
      Value: fc.array(unicodeText, { maxLength: 3 }).map((a) => JSON.stringify(a)),
    }),
  ),
  { maxKeys: 3 },
);

interface EnvelopeDecoration {
  /** undefined: no Subject field; null: `"Subject": null` (what SNS sends without one). */
  readonly subject: string | null | undefined;
  readonly attributes: Record<string, unknown> | undefined;
  readonly topic: string;
  readonly style: "compact" | "indented" | "sns";
}
const decoration: fc.Arbitrary<EnvelopeDecoration> = fc.record({
  subject: fc.oneof(fc.constant(undefined), fc.constant(null), unicodeText),
  attributes: fc.option(snsAttributes, { nil: undefined }),
  topic: fc.oneof(fc.constant("arn:aws:sns:eu-west-1:123456789012:entities"), unicodeText),
  style: fc.constantFrom("compact", "indented", "sns"),
});

/** An SNS notification as SQS receives it; `fields` override or (as undefined) remove standard fields. */
export function snsEnvelope(
  message: unknown,
  dress: EnvelopeDecoration,
  fields: Record<string, unknown> = {},
): string {
  const envelope: Record<string, unknown> = {
    Type: "Notification",
    MessageId: "0b3c6a4e-7d5f-5a5b-9f2d-2f6c1e7a9b10",
    TopicArn: dress.topic,
    ...(dress.subject === undefined ? {} : { Subject: dress.subject }),
    Message: message,
    Timestamp: "2022-06-08T04:32:49.123Z",
    SignatureVersion: "1",
    Signature: "EXAMPLEpH+2ZEXAMPLE==",
    SigningCertURL: "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000.pem",
    UnsubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    ...(dress.attributes === undefined ? {} : { MessageAttributes: dress.attributes }),
    ...fields,
  };
  const entries = Object.entries(envelope).filter(([, value]) => value !== undefined);
  switch (dress.style) {
    case "compact":
      return JSON.stringify(Object.fromEntries(entries));
    case "indented":
      return JSON.stringify(Object.fromEntries(entries), null, 2);
    case "sns":
      // SNS's own layout: `"Key" : value`, two-space indent.
      return `{\n${entries.map(([key, value]) => `  ${JSON.stringify(key)} : ${JSON.stringify(value)}`).join(",\n")}\n}`;
  }
}

/** JSON with every character of the string escaped as \uXXXX: the same value, other bytes. */
const escapedJsonString = (text: string): string =>
  `"${[...Array(text.length).keys()].map((i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, "0")}`).join("")}"`;

const extraFields = fc
  .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 })
  .map((fields) => {
    // These would make the object look like an envelope or carry a second entity: `openBody` has those.
    for (const name of ["entity", "Type", "TopicArn", "Message", "__proto__"]) delete fields[name];
    return fields;
  });

/** A raw key in every shape the handler documents. */
const wrappedKey: fc.Arbitrary<BodyCase> = fc.oneof(
  rawKey.map((key) => carrying(key, key, "plain")),
  rawKey.map((key) => carrying(key, JSON.stringify(key), "json string")),
  fc
    .tuple(rawKey, extraFields, fc.boolean())
    .map(([key, extra, first]) =>
      carrying(key, JSON.stringify(first ? { entity: key, ...extra } : { ...extra, entity: key }), "json"),
    ),
  rawKey.map((key) => carrying(key, `{ "entity" : ${escapedJsonString(key)} }`, "json, \\u-escaped")),
  fc.tuple(rawKey, decoration).map(([key, dress]) => carrying(key, snsEnvelope(key, dress), "sns")),
  fc
    .tuple(rawKey, extraFields, decoration)
    .map(([key, extra, dress]) =>
      carrying(key, snsEnvelope(JSON.stringify({ ...extra, entity: key }), dress), "sns+json"),
    ),
  fc
    .tuple(rawKey, decoration)
    .map(([key, dress]) => carrying(key, snsEnvelope(JSON.stringify(key), dress), "sns+json string")),
);

/** Envelopes that are not a notification carrying a key: each must be set aside. */
const brokenEnvelope: fc.Arbitrary<BodyCase> = fc.oneof(
  fc
    .tuple(rawKey, decoration)
    .map(([key, dress]) =>
      deadLetter(snsEnvelope(key, dress, { Message: undefined }), "sns without Message"),
    ),
  fc
    .tuple(rawKey, decoration, fc.constantFrom("null", "number", "boolean", "object", "array"))
    .map(([key, dress, kind]) => {
      const message = { null: null, number: 42, boolean: true, object: { entity: key }, array: [key] }[kind];
      return deadLetter(snsEnvelope(message, dress), `sns, Message is ${kind}`);
    }),
  fc
    .tuple(
      rawKey,
      decoration,
      fc.constantFrom<unknown>(
        "SubscriptionConfirmation",
        "UnsubscribeConfirmation",
        "notification",
        null,
        1,
        "",
      ),
    )
    .map(([key, dress, type]) =>
      deadLetter(snsEnvelope(key, dress, { Type: type }), `sns of Type ${JSON.stringify(type)}`),
    ),
  fc
    .tuple(rawKey, decoration, fc.double({ min: 0, max: 1, maxExcluded: true }))
    .map(([key, dress, where]) => {
      const whole = snsEnvelope(key, dress);
      return deadLetter(whole.slice(0, Math.floor(where * whole.length)), "sns, cut short");
    }),
  fc
    .tuple(rawKey, decoration, fc.constantFrom<unknown>(null, 5, [], {}, true))
    .map(([key, dress, entity]) =>
      deadLetter(
        snsEnvelope(JSON.stringify({ id: key, entity }), dress),
        "sns, Message without a string entity",
      ),
    ),
  fc
    .tuple(rawKey, decoration)
    .map(([key, dress]) =>
      deadLetter(snsEnvelope(`{"entity": ${JSON.stringify(key)}`, dress), "sns, Message is broken JSON"),
    ),
  decoration.map((dress) => deadLetter(snsEnvelope("", dress), "sns, empty Message")),
  fc
    .constantFrom(
      "{}",
      "[]",
      "null",
      "42",
      "true",
      '""',
      '"   "',
      "{",
      "[",
      '{"entity": null}',
      '{"entity": ["A_20220101T000000"]}',
    )
    .map((body) => deadLetter(body, "json without a key")),
);

/** Bodies several readings could apply to, envelopes in envelopes, random JSON and random text. */
const openBody: fc.Arbitrary<BodyCase> = fc.oneof(
  fc
    .tuple(rawKey, decoration, decoration, fc.boolean())
    .map(([key, outer, inner, json]) =>
      open(
        snsEnvelope(snsEnvelope(json ? JSON.stringify({ entity: key }) : key, inner), outer),
        "sns in sns",
      ),
    ),
  fc
    .record(
      {
        Type: fc.constantFrom<unknown>("Notification", "Other", null),
        TopicArn: fc.constant("arn:aws:sns:eu-west-1:1:t"),
        Message: fc.oneof(
          rawKey,
          rawKey.map((key) => JSON.stringify({ entity: key })),
        ),
        entity: fc.oneof(rawKey, fc.constantFrom<unknown>(5, null)),
      },
      { requiredKeys: [] },
    )
    .map((fields) => open(JSON.stringify(fields), "envelope-like object")),
  rawKey.map((key) => open(JSON.stringify(JSON.stringify({ entity: key })), "json in a json string")),
  fc
    .tuple(rawKey, fc.constantFrom("\uFEFF", " ", "\n", "\u00A0"))
    .map(([key, lead]) => open(`${lead}${JSON.stringify({ entity: key })}`, "json after whitespace")),
  fc.jsonValue({ maxDepth: 4 }).map((value) => open(JSON.stringify(value), "random json")),
  fc
    .tuple(fc.jsonValue({ maxDepth: 3 }), decoration)
    .map(([value, dress]) => open(snsEnvelope(JSON.stringify(value), dress), "sns, random json")),
  fc.string({ maxLength: 60 }).map((text) => open(text, "random text")),
  fc.string({ unit: "binary", maxLength: 200 }).map((text) => open(text, "random code points")),
  fc
    .string({
      unit: fc.constantFrom("{", "}", "[", "]", '"', ":", ",", "\\", "entity", "A_20220101T000000", " "),
      maxLength: 30,
    })
    .map((text) => open(text, "json-ish fragments")),
);

/**
 * Bodies near SQS's 1 MiB limit (in UTF-8 bytes, as SQS counts: multi-byte padding repeats fewer times);
 * some carry a valid key that must still be stored.
 */
const hugeBodies: readonly ((size: number, key: string, dress: EnvelopeDecoration) => BodyCase)[] = [
  (size) => deadLetter("A".repeat(size), "huge: letters only"),
  (size) => deadLetter(`${"X".repeat(size)}_20220101T000000`, "huge: name too long"),
  (size) =>
    deadLetter(
      JSON.stringify({ entity: `${"X".repeat(size)}_20220101T000000` }),
      "huge: json, name too long",
    ),
  (size) => deadLetter("[".repeat(size), "huge: unclosed nesting"),
  // Deep enough to break a recursive reader; V8's JSON.parse is not one (and 1 MiB deep takes 0.2 s).
  (size) => deadLetter(`${"[".repeat(size / 100)}${"]".repeat(size / 100)}`, "huge: deep nesting"),
  (size, key) =>
    carrying(key, JSON.stringify({ entity: key, padding: "p".repeat(size) }), "huge: json with padding"),
  (size, key, dress) =>
    carrying(key, snsEnvelope(key, { ...dress, subject: "😀".repeat(size / 4) }), "huge: sns subject"),
  (size, key, dress) =>
    carrying(
      key,
      snsEnvelope(JSON.stringify({ padding: "\u00e9".repeat(size / 2), entity: key }), dress),
      "huge: sns+json",
    ),
];
const hugeBody: fc.Arbitrary<BodyCase> = fc
  .tuple(
    fc.integer({ min: 200_000, max: 1_040_000 }),
    rawKey,
    decoration,
    fc.nat({ max: hugeBodies.length - 1 }),
  )
  .map(([size, key, dress, which]) => hugeBodies[which]!(size, key, dress));

export const body: fc.Arbitrary<BodyCase> = fc.oneof(
  { weight: 1000, arbitrary: wrappedKey },
  { weight: 200, arbitrary: brokenEnvelope },
  { weight: 200, arbitrary: openBody },
  { weight: 1, arbitrary: hugeBody },
);
