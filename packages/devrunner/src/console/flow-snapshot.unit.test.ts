import type { QueuedMessage } from "@entity/adapters/sqs-emulator";
import { describe, expect, it } from "vitest";
import { deadLetterViews } from "./flow-snapshot.ts";

function letter(n: number, attributes: Record<string, string> = {}): QueuedMessage {
  return {
    messageId: `m${n}`,
    body: `KEY_${n}`,
    approximateReceiveCount: 0,
    sentTimestamp: 0,
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { DataType: "String", StringValue: value }]),
    ),
  } as unknown as QueuedMessage;
}

describe("the dead-letter queue on the page", () => {
  it("counts all its messages, not the shown ones", () => {
    const views = deadLetterViews(
      Array.from({ length: 109 }, (_, n) => letter(n)),
      () => undefined,
    );
    expect(views.total).toBe(109);
    expect(views.shown).toHaveLength(100);
  });

  it("shows a set-aside letter's original receive count when known, none (not 0) when not", () => {
    const known = new Map([["original-1", 3]]);
    const views = deadLetterViews(
      [
        letter(1, { originalMessageId: "original-1", failureCode: "LOWERCASE_LETTER" }),
        letter(2, { originalMessageId: "original-2", failureCode: "LOWERCASE_LETTER" }),
        { ...letter(3), approximateReceiveCount: 4 },
      ],
      (id) => known.get(id),
    );
    expect(views.shown.map((view) => view.receiveCount)).toEqual([3, null, 4]);
  });
});
