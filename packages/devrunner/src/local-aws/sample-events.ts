import { createHash, randomUUID } from "node:crypto";
import { parseEntityKey } from "@entity/domain";

export type EventKind = "sqs" | "sns" | "fifo";

const REGION = "eu-west-1";
const ACCOUNT = "123456789012";

/** An SQS event as Lambda delivers it, carrying these keys: plain bodies, SNS envelopes, or FIFO records. */
export function sampleSqsEvent(
  kind: EventKind,
  keys: readonly string[],
  options: { jsonBody?: boolean } = {},
) {
  const queueName = kind === "fifo" ? "entity-queue.fifo" : "entity-queue";
  const sentAt = Date.now();
  return {
    Records: keys.map((key, index) => {
      const payload = options.jsonBody ? JSON.stringify({ entity: key }) : key;
      const body = kind === "sns" ? snsEnvelope(payload) : payload;
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
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queueName}`,
        awsRegion: REGION,
      };
    }),
  };
}

/** The JSON body SNS delivers to SQS without raw delivery (pretty-printed, as SNS does). */
export function snsEnvelope(
  message: string,
  topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:entity-topic`,
): string {
  return JSON.stringify(
    {
      Type: "Notification",
      MessageId: randomUUID(),
      TopicArn: topicArn,
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-example.pem`,
      UnsubscribeURL: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:example`,
    },
    null,
    2,
  );
}
