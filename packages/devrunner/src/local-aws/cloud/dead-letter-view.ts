// Looking at the dead-letter queue without receiving from it: a receive (even with VisibilityTimeout 0)
// raises each message's receive count, so listing would change what it shows.
import { queuedMessages, type FauxqsServer, type QueuedMessage } from "@entity/adapters/sqs-emulator";
import { LocalAwsError } from "../errors.ts";
import type { DeadLetter } from "./dead-letters.ts";

/** What the function said when it set a message aside (the attributes its DLQ sender writes). */
export interface SetAside {
  readonly code: string | undefined;
  readonly reason: string | undefined;
}

/** The DLQ's messages the function set aside itself, by the id of the message they came in as. */
export function setAsideByOriginalId(server: FauxqsServer, dlqName: string): Map<string, SetAside> {
  const found = new Map<string, SetAside>();
  for (const message of queuedMessages(server, dlqName)) {
    const original = message.messageAttributes.originalMessageId?.StringValue;
    if (original) found.set(original, setAsideOf(message));
  }
  return found;
}

/**
 * The dead letters of a running `up` (another process), read through the emulator's inspection endpoint
 * (GET /_fauxqs/queues/NAME): every message, ready, in flight or delayed, with its receive count as is.
 */
export async function peekDeadLetters(endpoint: string, dlqUrl: string): Promise<DeadLetter[]> {
  const name = decodeURIComponent(new URL(dlqUrl).pathname.split("/").pop() ?? "");
  const response = await fetch(`${endpoint}/_fauxqs/queues/${encodeURIComponent(name)}`).catch(
    (error: unknown) => {
      throw new LocalAwsError("NO_LOCAL_CLOUD", `the local cloud at ${endpoint} does not answer`, {
        cause: error,
      });
    },
  );
  if (!response.ok)
    throw new LocalAwsError(
      "NO_LOCAL_CLOUD",
      `the local cloud at ${endpoint} has no queue '${name}' (HTTP ${response.status})`,
    );
  const { messages } = (await response.json()) as {
    messages: { ready: QueuedMessage[]; delayed: QueuedMessage[]; inflight: { message: QueuedMessage }[] };
  };
  return [...messages.ready, ...messages.inflight.map((entry) => entry.message), ...messages.delayed].map(
    (message) => {
      const { code, reason } = setAsideOf(message);
      return {
        messageId: message.messageId,
        body: message.body,
        receiveCount: message.approximateReceiveCount,
        failureCode: code,
        failureReason: reason,
      };
    },
  );
}

function setAsideOf(message: QueuedMessage): SetAside {
  return {
    code: message.messageAttributes.failureCode?.StringValue,
    reason: message.messageAttributes.failureReason?.StringValue,
  };
}
