import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { randomBytes } from "node:crypto";
import { drainDeadLetters, redriveDeadLetters } from "../local-aws/cloud/dead-letters.ts";
import { localSqsClient } from "../local-aws/cloud/local-cloud.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import { queuedMessages } from "@entity/adapters/sqs-emulator";

/** At most this many keys per publish from the page. */
export const MAX_KEYS = 100;

export interface PublishRequest {
  readonly keys: readonly string[];
  /** Through the topic (as the producers do) or straight to the function's queue. */
  readonly via: "sns" | "queue";
  readonly jsonBody: boolean;
}

/** The state-changing things the page can do, on the running flow's local cloud. */
export class ConsoleActions {
  private readonly flow: LocalFlow;
  private readonly sqs;
  private readonly sns;
  private redrives: Promise<unknown> = Promise.resolve();

  constructor(flow: LocalFlow) {
    this.flow = flow;
    const { endpoint, region } = flow.cloud;
    this.sqs = localSqsClient(endpoint, region);
    this.sns = new SNSClient({
      endpoint,
      region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  }

  /**
   * Sends each key in order, stopping at the first that fails: the message ids of those sent and,
   * when one failed, why (the keys after it were not sent).
   */
  async publish(request: PublishRequest): Promise<{ messageIds: string[]; failure?: string }> {
    const topicArn = [...this.flow.cloud.topics.values()][0]?.arn;
    if (request.via === "sns" && !topicArn)
      return { messageIds: [], failure: "the template has no SNS topic: send to the queue" };
    const messageIds: string[] = [];
    for (const key of request.keys) {
      const body = request.jsonBody ? JSON.stringify({ entity: key }) : key;
      try {
        const sent =
          request.via === "sns"
            ? await this.sns.send(new PublishCommand({ TopicArn: topicArn, Message: body }))
            : await this.sqs.send(
                new SendMessageCommand({ QueueUrl: this.flow.queue.url, MessageBody: body }),
              );
        messageIds.push(sent.MessageId ?? "?");
      } catch (error) {
        return { messageIds, failure: error instanceof Error ? error.message : String(error) };
      }
    }
    return { messageIds };
  }

  /**
   * Moves the dead-lettered messages with these ids (all of them when none is given) back to the queue,
   * one redrive at a time (two at once would each hide the other's messages while receiving). Ids not
   * in the DLQ are refused before anything moves.
   */
  redrive(
    messageIds: readonly string[] | undefined,
  ): Promise<{ redriven: string[] } | { missing: string[] }> {
    const run = this.redrives.then(() => this.redriveNow(messageIds));
    this.redrives = run.catch(() => undefined);
    return run;
  }

  private async redriveNow(
    messageIds: readonly string[] | undefined,
  ): Promise<{ redriven: string[] } | { missing: string[] }> {
    const dlq = this.flow.deadLetterQueue;
    if (!dlq) throw new Error("the function's queue has no dead-letter queue in the template");
    if (messageIds === undefined) {
      const letters = await drainDeadLetters(this.sqs, dlq.url, this.flow.queue.url);
      return { redriven: letters.map((letter) => letter.messageId ?? "?") };
    }
    // Looked at in place (no receive), so a wrong id costs the others nothing.
    const present = new Set(
      queuedMessages(this.flow.cloud.server, dlq.name).map((message) => message.messageId),
    );
    const missing = messageIds.filter((id) => !present.has(id));
    if (missing.length > 0) return { missing };
    const redriven = await redriveDeadLetters(this.sqs, dlq.url, this.flow.queue.url, new Set(messageIds));
    return { redriven };
  }

  close(): void {
    this.sqs.destroy();
    this.sns.destroy();
  }
}

/** A fresh, valid key: a new entity, observed now. */
export function sampleKey(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").slice(0, 15);
  const name = randomBytes(4).toString("hex").toUpperCase();
  return `SAMPLE_ENTITY_${name}_${stamp}`;
}
