import type { DeadLetter, DeadLetterQueue } from "@entity/domain";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

export interface DeadLetterQueueHarness {
  readonly deadLetters: DeadLetterQueue;
  /** What the queue holds so far, as letters (waits briefly for in-flight sends). */
  received(expectedCount: number): Promise<readonly DeadLetter[]>;
  /** True when the queue keeps message groups (a FIFO queue): letters then keep theirs. */
  readonly keepsGroups: boolean;
  close(): Promise<void>;
}

function letters(count: number, prefix = "dead"): DeadLetter[] {
  return Array.from({ length: count }, (_, i) => ({
    messageId: `${prefix}-${i}`,
    body: i % 2 === 0 ? `not a key ${i}` : JSON.stringify({ entity: `bad_${i}`, note: "unicode ✓ \u202e" }),
    reasonCode: i % 2 === 0 ? "INVALID_STAMP" : "MALFORMED_JSON",
    reason: `reason number ${i}: what was wrong and where`,
    group: `group-${i % 3}`,
  }));
}

/**
 * What every dead-letter queue must do: keep each letter's body exactly as received (so a redrive replays
 * the same message) with its reason, code and original message id; report, never throw, what it could not
 * take, so the caller keeps those records for a retry.
 */
export function testDeadLetterQueueContract(
  adapterName: string,
  createHarness: () => Promise<DeadLetterQueueHarness>,
): void {
  describe(`dead-letter queue contract: ${adapterName}`, () => {
    let harness: DeadLetterQueueHarness;
    beforeEach(async () => {
      harness = await createHarness();
    });
    afterEach(async () => {
      await harness.close();
    });

    it("keeps each letter's body, reason, code and message id exactly", async () => {
      const sent = letters(3);
      expect(await harness.deadLetters.send(sent)).toEqual({ failed: [] });
      const received = await harness.received(3);
      const byId = (list: readonly DeadLetter[]) =>
        [...list].sort((a, b) => a.messageId.localeCompare(b.messageId));
      const expected = sent.map((letter) => {
        const { group, ...rest } = letter;
        return harness.keepsGroups ? { ...rest, group } : rest;
      });
      expect(
        byId(received).map((letter) => (harness.keepsGroups ? letter : { ...letter, group: undefined })),
      ).toEqual(
        byId(expected).map((letter) => (harness.keepsGroups ? letter : { ...letter, group: undefined })),
      );
    });

    it("takes more letters than one request can carry", async () => {
      const sent = letters(23, "many");
      expect(await harness.deadLetters.send(sent)).toEqual({ failed: [] });
      expect((await harness.received(23)).map((letter) => letter.messageId).sort()).toEqual(
        sent.map((letter) => letter.messageId).sort(),
      );
    });

    it("reports a letter it cannot take instead of throwing, and takes the others", async () => {
      const sent = letters(3, "sized");
      const oversized = { ...sent[1]!, body: "x".repeat(1_100_000) };
      sent[1] = oversized;
      const result = await harness.deadLetters.send(sent);
      expect(result.failed).toEqual([oversized.messageId]);
      expect((await harness.received(2)).map((letter) => letter.messageId).sort()).toEqual(
        [sent[0]!.messageId, sent[2]!.messageId].sort(),
      );
    });

    it("keeps a body just under SQS's 1 MiB whole, shortening only the reason to fit", async () => {
      const [letter] = letters(1, "edge");
      const body = "b".repeat(1_048_576 - 2_000);
      const edge = { ...letter!, body, reason: "r".repeat(5000) };
      expect(await harness.deadLetters.send([edge])).toEqual({ failed: [] });
      const [received] = await harness.received(1);
      expect(received?.body).toBe(body);
      expect(received?.reasonCode).toBe(edge.reasonCode);
      expect(received?.reason.startsWith("r")).toBe(true);
    });

    it("does nothing for an empty list", async () => {
      expect(await harness.deadLetters.send([])).toEqual({ failed: [] });
      expect(await harness.received(0)).toEqual([]);
    });
  });
}
