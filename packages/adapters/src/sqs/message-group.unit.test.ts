import { MAX_NAME_LENGTH } from "@entity/domain";
import { describe, expect, it } from "vitest";
import { SQS_MAX_GROUP_ID_LENGTH, messageGroupId } from "./sqs-event-publisher.ts";

describe("messageGroupId (FIFO outbound queues)", () => {
  it("is the entity name when it fits SQS's 128 characters", () => {
    const name = "N".repeat(SQS_MAX_GROUP_ID_LENGTH);
    expect(messageGroupId(name)).toBe(name);
    expect(messageGroupId("MY_CRYPTIC_ENTITY_XXX_YYY")).toBe("MY_CRYPTIC_ENTITY_XXX_YYY");
  });

  it("fits every longer valid name into 128 characters, deterministically, distinct for shared prefixes", () => {
    const prefix = "A".repeat(150);
    const names = [`${prefix}_ONE`, `${prefix}_TWO`, "B".repeat(MAX_NAME_LENGTH), "B".repeat(129)];
    const groups = names.map(messageGroupId);
    for (const group of groups) {
      expect(group.length).toBeLessThanOrEqual(SQS_MAX_GROUP_ID_LENGTH);
      expect(group).toMatch(/^[A-Za-z0-9_]+~[0-9a-f]{16}$/);
    }
    expect(new Set(groups).size).toBe(names.length);
    expect(names.map(messageGroupId)).toEqual(groups);
    expect(groups[0]!.startsWith("A".repeat(111))).toBe(true);
  });
});
