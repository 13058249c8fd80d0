import type { SQSMessageAttributes, SQSRecord } from "aws-lambda";
import fc from "fast-check";
import { body, unicodeText, type BodyCase, type Expectation } from "./bodies.ts";

/** One SQS record as the Lambda receives it, with what it must end as. */
export interface FuzzRecord {
  readonly record: SQSRecord;
  readonly shape: string;
  readonly expected: Expectation;
}

/** What one queue delivers to the function: batches of 1..10 records, in order. */
export interface Scenario {
  readonly fifo: boolean;
  readonly batches: readonly (readonly FuzzRecord[])[];
}

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:entity-queue";
const sqlFragments = [
  "'; DROP TABLE entity; --",
  '"); DELETE FROM observation; --',
  "' OR '1'='1",
  "$1",
  "\\x00",
  "E'\\\\'",
  "$$; truncate outbox; $$",
];
const messageId = fc.oneof(
  { weight: 6, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.constantFrom(...sqlFragments) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) },
);

const GROUP_ID_CHARS = "abcXYZ019!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".split("");
const groupId = fc.oneof(
  fc.constantFrom("g1", "g2", "entity-A"),
  fc.string({ unit: fc.constantFrom(...GROUP_ID_CHARS), minLength: 1, maxLength: 128 }),
);

/** Message attributes of every data type SQS has, custom types included. */
const messageAttributes: fc.Arbitrary<SQSMessageAttributes> = fc.dictionary(
  fc.string({ unit: fc.constantFrom(..."abcAZ09_-.".split("")), minLength: 1, maxLength: 20 }),
  fc.oneof(
    fc.record({
      dataType: fc.constantFrom("String", "String.json", "String.ü"),
      stringValue: unicodeText,
      stringListValues: fc.constant<string[]>([]),
      binaryListValues: fc.constant<string[]>([]),
    }),
    fc.record({
      dataType: fc.constantFrom("Number", "Number.float"),
      stringValue: fc.oneof(
        fc.integer().map(String),
        fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      ),
      stringListValues: fc.constant<string[]>([]),
      binaryListValues: fc.constant<string[]>([]),
    }),
    fc.record({
      dataType: fc.constantFrom("Binary", "Binary.gz"),
      binaryValue: fc.base64String({ maxLength: 40 }),
      stringListValues: fc.constant<string[]>([]),
      binaryListValues: fc.constant<string[]>([]),
    }),
  ),
  { maxKeys: 4 },
);

interface Delivery {
  readonly receiveCount: number;
  readonly sentAt: number;
  readonly senderId: string;
  readonly traceHeader: string | undefined;
  /** Set when the message was redriven from a dead-letter queue. */
  readonly redrivenFrom: string | undefined;
  readonly messageAttributes: SQSMessageAttributes;
  /** Lambda always sends the attributes; a record without them must not crash the handler either. */
  readonly bare: boolean;
}
const delivery: fc.Arbitrary<Delivery> = fc.record({
  receiveCount: fc.oneof(
    { weight: 4, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 1000 }) },
  ),
  sentAt: fc.integer({ min: 0, max: 4_102_444_800_000 }),
  senderId: fc.oneof(
    fc.constantFrom("AIDAIENQZJOLO23YVJ4VO", "AROAXXXXXXXXXXXXXXXXX:session"),
    fc.string({ maxLength: 30 }),
  ),
  traceHeader: fc.option(
    fc.constantFrom("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", ""),
    {
      nil: undefined,
    },
  ),
  redrivenFrom: fc.option(fc.constant(`${QUEUE_ARN}-dlq`), { nil: undefined, freq: 10 }),
  messageAttributes,
  bare: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

/** One step of a batch: a new message, or an earlier one delivered again, or its body in a new message. */
interface Step {
  readonly body: BodyCase;
  readonly id: string;
  readonly group: number;
  readonly delivery: Delivery;
  /** Reuse the record this many places back (modulo those sent so far), when there is one. */
  readonly reuse: { readonly back: number; readonly as: "redelivery" | "same body, new message" } | undefined;
}
const step: fc.Arbitrary<Step> = fc.record({
  body,
  id: messageId,
  group: fc.nat({ max: 3 }),
  delivery,
  // One step in five reuses an earlier record.
  reuse: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.record({
        back: fc.nat({ max: 12 }),
        as: fc.constantFrom("redelivery", "same body, new message"),
      }),
    },
  ),
});

export const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    fifo: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    groups: fc.array(groupId, { minLength: 1, maxLength: 3 }),
    batches: fc.array(fc.array(step, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 3 }),
  })
  .map(({ fifo, groups, batches }) => deliver(fifo, groups, batches));

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly group: string | undefined;
}

/** Turns the plan into records: message ids unique per message, redeliveries carrying the same id. */
function deliver(fifo: boolean, groups: readonly string[], plan: readonly (readonly Step[])[]): Scenario {
  const sent: { item: FuzzRecord; shape: string; message: Message; delivery: Delivery }[] = [];
  let sequence = 0;
  const batches = plan.map((steps) =>
    steps.map((planned) => {
      sequence += 1;
      const reuse = planned.reuse && sent.length > 0 ? planned.reuse : undefined;
      const earlier = reuse ? sent[sent.length - 1 - (reuse.back % sent.length)] : undefined;
      let message: Message;
      let attempt = planned.delivery;
      if (earlier && reuse?.as === "redelivery") {
        message = earlier.message;
        attempt = { ...earlier.delivery, receiveCount: earlier.delivery.receiveCount + 1 };
      } else {
        message = {
          messageId: `${planned.id}#${sequence}`,
          body: earlier?.message.body ?? planned.body.body,
          group: fifo ? (earlier?.message.group ?? groups[planned.group % groups.length]) : undefined,
        };
      }
      const shape = earlier?.shape ?? planned.body.shape;
      const item: FuzzRecord = {
        shape:
          earlier && reuse ? `${shape}, ${reuse.as} of ${JSON.stringify(earlier.message.messageId)}` : shape,
        expected: earlier?.item.expected ?? planned.body.expected,
        record: sqsRecord(message, attempt, fifo, sequence),
      };
      sent.push({ item, shape, message, delivery: attempt });
      return item;
    }),
  );
  return { fifo, batches };
}

function sqsRecord(message: Message, attempt: Delivery, fifo: boolean, sequence: number): SQSRecord {
  const fifoAttributes =
    message.group === undefined
      ? {}
      : {
          MessageGroupId: message.group,
          MessageDeduplicationId: `${message.messageId.slice(0, 100)}-dedup`,
          SequenceNumber: String(18_849_496_460_467_696_128n + BigInt(sequence)),
        };
  return {
    messageId: message.messageId,
    receiptHandle: `AQEB${sequence}`,
    body: message.body,
    attributes: attempt.bare
      ? (fifoAttributes as SQSRecord["attributes"])
      : {
          ApproximateReceiveCount: String(attempt.receiveCount),
          SentTimestamp: String(attempt.sentAt),
          SenderId: attempt.senderId,
          ApproximateFirstReceiveTimestamp: String(attempt.sentAt + 10),
          ...(attempt.traceHeader === undefined ? {} : { AWSTraceHeader: attempt.traceHeader }),
          ...(attempt.redrivenFrom === undefined ? {} : { DeadLetterQueueSourceArn: attempt.redrivenFrom }),
          ...fifoAttributes,
        },
    messageAttributes: attempt.bare ? {} : attempt.messageAttributes,
    md5OfBody: "7b270e59b47ff90a553787216d55d91d",
    eventSource: "aws:sqs",
    eventSourceARN: fifo ? `${QUEUE_ARN}.fifo` : QUEUE_ARN,
    awsRegion: "eu-west-1",
  };
}
