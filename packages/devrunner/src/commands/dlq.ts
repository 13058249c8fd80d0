import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { parseCommandArgs } from "../cli/args.ts";
import { localSqsClient } from "../local-aws/cloud/local-cloud.ts";
import { readUpState } from "../local-aws/cloud/state.ts";
import { localAwsConfigFor } from "../cli/target.ts";
import { UsageError } from "../cli/errors.ts";
import { createOutput } from "../cli/output.ts";

export const DLQ_HELP = `devrunner dlq [--redrive] [--json]

Lists the messages in the running local cloud's dead-letter queue with why they are there
(--redrive: sends them back to the source queue and removes them from the DLQ).

Options:
  --redrive   move every dead-lettered message back to the source queue
  --json      one JSON document on stdout
  -h, --help`;

export async function dlqCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseCommandArgs("dlq", argv, {
    redrive: { type: "boolean", default: false },
    json: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    process.stdout.write(`${DLQ_HELP}\n`);
    return 0;
  }
  const state = readUpState(localAwsConfigFor(process.env).stateFile);
  if (!state.dlqUrl) throw new UsageError("the source queue has no dead-letter queue in the template");
  const output = createOutput(values.json);
  const client = localSqsClient(state.endpoint, state.region);
  try {
    const messages = await receiveAll(client, state.dlqUrl, values.redrive ? 30 : 0);
    for (const message of messages) {
      const reason = message.MessageAttributes?.failureReason?.StringValue;
      const code = message.MessageAttributes?.failureCode?.StringValue;
      output.line(
        `${message.MessageId ?? "?"}  receives=${message.Attributes?.ApproximateReceiveCount ?? "?"}  ${code ? `${code}: ${reason}` : "(exceeded maxReceiveCount)"}  body=${JSON.stringify((message.Body ?? "").slice(0, 200))}`,
      );
      if (values.redrive) {
        await client.send(
          new SendMessageCommand({
            QueueUrl: state.queueUrl,
            MessageBody: message.Body ?? "",
            ...(message.MessageAttributes ? { MessageAttributes: message.MessageAttributes } : {}),
          }),
        );
        await client.send(
          new DeleteMessageCommand({ QueueUrl: state.dlqUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
    }
    output.line(
      values.redrive
        ? `redrove ${messages.length} message(s) to ${state.queueUrl}`
        : `${messages.length} message(s) in ${state.dlqUrl}`,
    );
    output.result({
      dlqUrl: state.dlqUrl,
      redriven: values.redrive,
      messages: messages.map((message) => ({
        messageId: message.MessageId,
        body: message.Body,
        receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
        failureCode: message.MessageAttributes?.failureCode?.StringValue,
        failureReason: message.MessageAttributes?.failureReason?.StringValue,
      })),
    });
  } finally {
    client.destroy();
  }
  return 0;
}

/** Every message in the queue, each once; a visibility timeout of 0 (listing) leaves them visible. */
async function receiveAll(
  client: SQSClient,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message[]> {
  const seen = new Map<string, Message>();
  for (;;) {
    const received = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibilityTimeout,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const fresh = (received.Messages ?? []).filter((message) => !seen.has(message.MessageId ?? ""));
    if (fresh.length === 0) return [...seen.values()];
    for (const message of fresh) seen.set(message.MessageId ?? "", message);
  }
}
