import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_NAME_LENGTH,
  formatEntityKey,
  parseEntityKey,
  type EntityKey,
  type InvalidEntityKey,
} from "./entity-key.ts";

function valid(text: string): EntityKey {
  const result = parseEntityKey(text);
  if (!result.ok) throw new Error(`expected ${text} to parse: ${result.error.message}`);
  return result.key;
}

function invalid(text: string): InvalidEntityKey {
  const result = parseEntityKey(text);
  if (result.ok) throw new Error(`expected ${text} not to parse`);
  return result.error;
}

describe("parseEntityKey", () => {
  it("parses the team's example into name, segments and a UTC instant", () => {
    const key = valid("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249");
    expect(key.name).toBe("MY_CRYPTIC_ENTITY_XXX_YYY");
    expect(key.segments).toEqual(["MY", "CRYPTIC", "ENTITY", "XXX", "YYY"]);
    expect(key.stamp).toBe("20220608T043249");
    expect(key.observedAt.toISOString()).toBe("2022-06-08T04:32:49.000Z");
    expect(key.key).toBe("MY_CRYPTIC_ENTITY_XXX_YYY_20220608T043249");
  });

  it("accepts a one-segment name, digit segments and 29 February in a leap year", () => {
    expect(valid("A_20240229T000000").segments).toEqual(["A"]);
    expect(valid("X1_2_20000229T235959").segments).toEqual(["X1", "2"]);
  });

  it("trims surrounding whitespace and nothing else", () => {
    expect(valid("  \tABC_20220608T043249\n").key).toBe("ABC_20220608T043249");
    expect(invalid("ABC _20220608T043249").code).toBe("INVALID_CHARACTER");
  });

  it("accepts a name of exactly the maximum length", () => {
    const name = "A".repeat(MAX_NAME_LENGTH);
    expect(valid(`${name}_20220608T043249`).name).toBe(name);
  });

  const cases: [string, string, InvalidEntityKey["code"], number | undefined, RegExp][] = [
    ["empty", "", "EMPTY", undefined, /empty/],
    ["whitespace only", "   ", "EMPTY", undefined, /whitespace/],
    [
      "lowercase letter",
      "MY_cRYPTIC_20220608T043249",
      "LOWERCASE_LETTER",
      4,
      /lowercase letter 'c' at position 4/,
    ],
    ["lowercase after leading spaces", "  MY_c_20220608T043249", "LOWERCASE_LETTER", 6, /position 6/],
    ["punctuation", "MY-ENTITY_20220608T043249", "INVALID_CHARACTER", 3, /'-' \(U\+002D\) at position 3/],
    ["NUL byte", "MY\u0000_20220608T043249", "INVALID_CHARACTER", 3, /U\+0000 at position 3/],
    ["non-ASCII letter", "MÜ_20220608T043249", "INVALID_CHARACTER", 2, /'Ü'/],
    ["quote", "MY'_20220608T043249", "INVALID_CHARACTER", 3, /'''/],
    ["leading underscore", "_MY_20220608T043249", "EMPTY_SEGMENT", 1, /empty name segment at position 1/],
    ["double underscore", "MY__ENTITY_20220608T043249", "EMPTY_SEGMENT", 4, /position 4/],
    ["stamp only", "20220608T043249", "MISSING_NAME", 1, /only a stamp/],
    ["no name before stamp", "_20220608T043249", "MISSING_NAME", 1, /no name/],
    ["missing stamp", "MY_ENTITY", "MISSING_STAMP", 10, /has no stamp/],
    ["no underscore at all", "MYENTITY", "MISSING_STAMP", 9, /has no stamp/],
    ["trailing underscore", "MY_ENTITY_", "MISSING_STAMP", 11, /has no stamp/],
    [
      "date without time",
      "MY_ENTITY_20220608",
      "MALFORMED_STAMP",
      11,
      /'20220608' at position 11 .* not YYYYMMDDTHHMMSS/,
    ],
    ["short time", "MY_ENTITY_20220608T0432", "MALFORMED_STAMP", 11, /not YYYYMMDDTHHMMSS/],
    ["year 0000", "MY_00000608T043249", "INVALID_YEAR", 4, /year 0000/],
    ["month 13", "MY_20221308T043249", "INVALID_MONTH", 8, /month 13 is not 01-12/],
    ["month 00", "MY_20220008T043249", "INVALID_MONTH", 8, /month 0 /],
    ["February 30", "MY_20220230T043249", "INVALID_DAY", 10, /February 30 does not exist/],
    ["February 29 outside a leap year", "MY_21000229T043249", "INVALID_DAY", 10, /February 2100 has 28 days/],
    ["April 31", "MY_20220431T043249", "INVALID_DAY", 10, /April 31/],
    ["day 00", "MY_20220400T043249", "INVALID_DAY", 10, /April 0/],
    ["hour 24", "MY_20220608T243249", "INVALID_HOUR", 13, /hour 24/],
    ["minute 60", "MY_20220608T046049", "INVALID_MINUTE", 15, /minute 60/],
    ["second 60", "MY_20220608T043260", "INVALID_SECOND", 17, /second 60 is not 00-59/],
    [
      "name too long",
      `${"A".repeat(MAX_NAME_LENGTH + 1)}_20220608T043249`,
      "NAME_TOO_LONG",
      201,
      /201 characters long; at most 200/,
    ],
  ];

  it.each(cases)("rejects %s with its code, position and reason", (_label, text, code, position, message) => {
    const error = invalid(text);
    expect(error.code).toBe(code);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(message);
  });

  it("never puts raw control characters into a message", () => {
    const message = invalid("MY\u0000\u001b[31m_20220608T043249").message;
    expect([...message].filter((char) => char.charCodeAt(0) < 0x20)).toEqual([]);
  });

  it("shortens very long input in messages", () => {
    const error = invalid(`${"A".repeat(1_000_000)}x`);
    expect(error.code).toBe("LOWERCASE_LETTER");
    expect(error.message.length).toBeLessThan(300);
  });
});

const segment = fc.stringMatching(/^[A-Z0-9]{1,12}$/);
const nameArbitrary = fc
  .array(segment, { minLength: 1, maxLength: 8 })
  .map((segments) => segments.join("_"))
  .filter((name) => name.length <= MAX_NAME_LENGTH);
const instantArbitrary = fc
  .date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true })
  .map((date) => new Date(Math.floor(date.getTime() / 1000) * 1000));

describe("formatEntityKey", () => {
  it("round-trips every valid key: formatEntityKey(parse(k)) === k", () => {
    fc.assert(
      fc.property(nameArbitrary, instantArbitrary, (name, instant) => {
        const text = formatEntityKey({ name, observedAt: instant });
        const parsed = valid(text);
        expect(formatEntityKey(parsed)).toBe(text);
        expect(parsed.name).toBe(name);
        expect(parsed.observedAt.getTime()).toBe(instant.getTime());
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws on random strings, and returns a code and message when it rejects", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.stringMatching(/^[A-Z0-9_T ]{0,40}$/)),
        (text) => {
          const result = parseEntityKey(text);
          if (!result.ok) {
            expect(result.error.code).toMatch(/^[A-Z_]+$/);
            expect(result.error.message.length).toBeGreaterThan(0);
          } else {
            expect(formatEntityKey(result.key)).toBe(text.trim());
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});
