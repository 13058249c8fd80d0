import { MAX_NAME_LENGTH } from "@entity/domain";
import fc from "fast-check";

// Raw keys near the edges of the grammar (entity-key.ts): valid ones of every shape, names around
// MAX_NAME_LENGTH, stamps on and just past the calendar's edges, and keys broken by one character,
// one missing piece or whitespace. Whether a key is valid is not decided here but by reference.ts.

const KEY_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".split("");
const segment = fc.string({ unit: fc.constantFrom(...KEY_CHARS), minLength: 1, maxLength: 8 });

/**
 * Names from a small pool (so keys meet: updates, stale stamps, duplicates), random names, and names of
 * exactly MAX_NAME_LENGTH - 1, MAX, MAX + 1 characters and far beyond.
 */
export const entityName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("A", "SENSOR_7", "MY_CRYPTIC_ENTITY_XXX_YYY", "0") },
  { weight: 4, arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("_")) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.array(segment, { minLength: 1, maxLength: 30 }),
        fc.constantFrom(MAX_NAME_LENGTH - 1, MAX_NAME_LENGTH, MAX_NAME_LENGTH + 1, MAX_NAME_LENGTH * 5),
      )
      .map(([parts, length]) => {
        const name = `${parts.join("_")}${"Z".repeat(length)}`.slice(0, length);
        return name.endsWith("_") ? `${name.slice(0, -1)}Z` : name;
      }),
  },
);

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

/** A field mostly in range, sometimes (1 in 40) on or just past an edge. */
const field = (min: number, max: number, edges: readonly number[]): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 39, arbitrary: fc.integer({ min, max }) },
    { weight: 1, arbitrary: fc.constantFrom(...edges) },
  );

const randomStamp = fc
  .tuple(
    field(1970, 2040, [0, 1, 99, 100, 1582, 1900, 2000, 2024, 2100, 9999]),
    field(1, 12, [0, 2, 13, 99]),
    field(1, 28, [0, 29, 30, 31, 32, 99]),
    field(0, 23, [23, 24, 99]),
    field(0, 59, [59, 60, 99]),
    field(0, 59, [59, 60, 99]),
  )
  .map(
    ([year, month, day, hour, minute, second]) =>
      `${pad(year, 4)}${pad(month, 2)}${pad(day, 2)}T${pad(hour, 2)}${pad(minute, 2)}${pad(second, 2)}`,
  );

/** The calendar's edges: leap days (and the century rules), month ends, the first and last instants. */
const calendarEdge = fc.constantFrom(
  "20240229T120000",
  "20000229T000000",
  "19000229T000000",
  "20230229T000000",
  "21000229T000000",
  "20240230T000000",
  "20220430T235959",
  "20220431T000000",
  "20221231T235959",
  "20230101T000000",
  "00010101T000000",
  "00001231T235959",
  "99991231T235959",
  "15821015T000000",
  "19700101T000000",
  "19691231T235959",
);

/** `YYYYMMDDTHHMMSS`: mostly ordinary, sometimes on or just past an edge of a field or of the calendar. */
export const stamp: fc.Arbitrary<string> = fc.oneof(
  { weight: 15, arbitrary: randomStamp },
  { weight: 1, arbitrary: calendarEdge },
);

/** Well-formed keys (valid unless the stamp or the name's length says otherwise). */
export const wellFormedKey: fc.Arbitrary<string> = fc
  .tuple(entityName, stamp)
  .map(([name, when]) => `${name}_${when}`);

/** Characters a key must not contain, or that look like ones it may. */
export const strangeCharacters = [
  "a",
  "z",
  "ß",
  "ı",
  "Ａ",
  "٣",
  "-",
  ".",
  " ",
  "__",
  "'",
  "\\",
  "\u0000",
  "\u0007",
  "\u007F",
  "\u0085",
  "\u00A0",
  "\u200B",
  "\u202E",
  "\uFEFF",
  "\uD800",
  "\uDFFF",
  "\uFFFF",
  "😀",
  "e\u0301",
  "\r\n",
  "'; DROP TABLE entity; --",
];

/** Whitespace String.prototype.trim removes (the domain trims), and one it does not (U+200B). */
const padding = fc.constantFrom(
  " ",
  "\t",
  "\n",
  "\r\n",
  "\u00A0",
  "\uFEFF",
  "\u2028",
  "\u3000",
  "\u200B",
  "  \t ",
);

const brokenKey: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(wellFormedKey, fc.constantFrom(...strangeCharacters), fc.nat()).map(([key, bad, at]) => {
    const index = at % (key.length + 1);
    return key.slice(0, index) + bad + key.slice(index);
  }),
  fc.tuple(wellFormedKey, fc.nat()).map(([key, at]) => {
    const index = at % key.length;
    return key.slice(0, index) + key.slice(index + 1);
  }),
  wellFormedKey.map((key) => key.toLowerCase()),
  wellFormedKey.map((key) => key.replace("T", "t")),
  wellFormedKey.map((key) => key.slice(0, key.lastIndexOf("_"))),
  wellFormedKey.map((key) => key.slice(key.lastIndexOf("_") + 1)),
  wellFormedKey.map((key) => key.slice(key.lastIndexOf("_"))),
  wellFormedKey.map((key) => `_${key}`),
  wellFormedKey.map((key) => `${key}_`),
  wellFormedKey.map((key) => `${key}0`),
  wellFormedKey.map((key) => key.replace("_", "__")),
  fc.constantFrom("", " ", "_", "T", "A_", "_20220101T000000", "A_20220101T000000Z", "A_2022-01-01T00:00:00"),
);

/** Any raw key: well-formed, broken, or either wrapped in whitespace. */
export const rawKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: wellFormedKey },
  { weight: 3, arbitrary: brokenKey },
  {
    weight: 1,
    arbitrary: fc
      .tuple(padding, fc.oneof(wellFormedKey, brokenKey), padding, fc.boolean())
      .map(([before, key, after, both]) => (both ? before + key + after : before + key)),
  },
);
