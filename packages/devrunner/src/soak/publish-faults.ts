import type { SqsBatchEntry, SqsEntryFault } from "@entity/adapters/fault-injection";
import { isUnpublishable } from "./keys.ts";

/** How SQS answers a message it will never take (the sender must change it): the event is parked at once. */
export const REFUSAL: SqsEntryFault = {
  code: "InvalidMessageContents",
  message: "the soak's outbound queue refuses events of entities marked unpublishable",
  senderFault: true,
};

/** A failure on SQS's side (SenderFault false): retried, and it recovers. */
export const TRANSIENT: SqsEntryFault = {
  code: "InternalError",
  message: "the soak's outbound queue failed this entry for now",
  senderFault: false,
};

/**
 * Send attempts a flaky event fails before it goes through: as many as one publish tries (the SQS
 * publisher's 3), so its first delivery fails as a whole, the record is retried, and a later delivery
 * (the record's redelivery or the relay) succeeds, well before OUTBOX_MAX_ATTEMPTS would park it.
 */
export const FLAKY_FAILED_ATTEMPTS = 3;

/**
 * The fate of each event sent to the outbound queue: refused for good when its entity is marked
 * unpublishable; failed transiently for its first attempts when it is one of the flaky share (chosen by
 * its id, which derives from the key, so a rerun picks the same events); sent on otherwise.
 */
export function outboundFaults(
  outboundQueueName: string,
  flakyShare: number,
): {
  faultFor: (entry: SqsBatchEntry, queueUrl: string) => SqsEntryFault | undefined;
  isFlaky: (eventId: string) => boolean;
} {
  const attempts = new Map<string, number>();
  const isFlaky = (eventId: string): boolean =>
    Number.parseInt(eventId.replace(/-/g, "").slice(0, 8), 16) / 0x1_0000_0000 < flakyShare;
  return {
    isFlaky,
    faultFor: (entry, queueUrl) => {
      if (queueUrl.split("/").at(-1) !== outboundQueueName) return undefined;
      const event = JSON.parse(entry.MessageBody) as { eventId: string; entityName: string };
      if (isUnpublishable(event.entityName)) return REFUSAL;
      if (!isFlaky(event.eventId)) return undefined;
      const attempt = (attempts.get(event.eventId) ?? 0) + 1;
      attempts.set(event.eventId, attempt);
      return attempt <= FLAKY_FAILED_ATTEMPTS ? TRANSIENT : undefined;
    },
  };
}
