import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventIdForKey } from "./events.ts";
import { sha256, toHex } from "./sha256.ts";

describe("sha256 (pure, for event ids)", () => {
  it("matches node:crypto on any text, including multi-byte and lone surrogates", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(toHex(sha256(text))).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
      }),
      { numRuns: 500 },
    );
  });
});

describe("eventIdForKey", () => {
  it("is deterministic, UUID-shaped and differs between keys", () => {
    const id = eventIdForKey("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249");
    expect(id).toBe(eventIdForKey("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdForKey("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043250")).not.toBe(id);
  });
});
