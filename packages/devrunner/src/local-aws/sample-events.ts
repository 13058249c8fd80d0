import { createHash, randomUUID } from "node:crypto";
import { parseEntityKey } from "@entity/domain";

export type EventKind = "sqs" | "sns" | "fifo";

/** Where the event says it comes from (`sam local generate-event`'s --region, --account-id, --queue-name). */
export interface EventOrigin {
  /** The config's region (LocalAwsConfig.region), the one `up` and `invoke` use. */
  readonly region: string;
  readonly accountId?: string;
  /** Default entity-queue (entity-queue.fifo for FIFO records). */
  readonly queueName?: string;
}

/** An SQS event as Lambda delivers it, carrying these keys: plain bodies, SNS envelopes, or FIFO records. */
export function sampleSqsEvent(
  kind: EventKind,
  keys: readonly string[],
  origin: EventOrigin,
  options: { jsonBody?: boolean } = {},
) {
  const { region } = origin;
  const account = origin.accountId ?? "123456789012";
  const queueName = origin.queueName ?? (kind === "fifo" ? "entity-queue.fifo" : "entity-queue");
  const sentAt = Date.now();
  return {
    Records: keys.map((key, index) => {
      const payload = options.jsonBody ? JSON.stringify({ entity: key }) : key;
      const body =
        kind === "sns" ? snsEnvelope(payload, `arn:aws:sns:${region}:${account}:entity-topic`) : payload;
      const parsed = parseEntityKey(key);
      return {
        messageId: randomUUID(),
        receiptHandle: `AQEB${createHash("sha256").update(`${sentAt}-${index}`).digest("base64url")}`,
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: String(sentAt),
          SenderId: "AIDAIENQZJOLO23YVJ4VO",
          ApproximateFirstReceiveTimestamp: String(sentAt + 5),
          ...(kind === "fifo"
            ? {
                MessageGroupId: parsed.ok ? parsed.key.name : "unparsed",
                MessageDeduplicationId: createHash("sha256").update(key).digest("hex"),
                SequenceNumber: String(18_000_000_000_000_000_000n + BigInt(index)),
              }
            : {}),
        },
        messageAttributes: {},
        md5OfBody: createHash("md5").update(body).digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${region}:${account}:${queueName}`,
        awsRegion: region,
      };
    }),
  };
}

/** The JSON body SNS delivers to SQS without raw delivery (pretty-printed, as SNS does). */
export function snsEnvelope(message: string, topicArn: string): string {
  const region = topicArn.split(":")[3];
  return JSON.stringify(
    {
      Type: "Notification",
      MessageId: randomUUID(),
      TopicArn: topicArn,
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: `https://sns.${region}.amazonaws.com/SimpleNotificationService-example.pem`,
      UnsubscribeURL: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:example`,
    },
    null,
    2,
  );
}
