/**
 * Entity keys: `NAME_YYYYMMDDTHHMMSS`, where NAME is one or more segments of uppercase letters and digits
 * joined by `_`, and the stamp is a UTC instant. Parsing never throws: a bad key is a value that says
 * what is wrong and where (1-based position in the text as given, before trimming).
 */

export const MAX_NAME_LENGTH = 200;

export interface EntityKey {
  /** The canonical text of the key. */
  readonly key: string;
  readonly name: string;
  readonly segments: readonly string[];
  /** The stamp as written, `YYYYMMDDTHHMMSS`. */
  readonly stamp: string;
  /** The stamp as an instant (UTC). */
  readonly observedAt: Date;
}

export type InvalidEntityKeyCode =
  | "EMPTY"
  | "LOWERCASE_LETTER"
  | "INVALID_CHARACTER"
  | "EMPTY_SEGMENT"
  | "MISSING_NAME"
  | "MISSING_STAMP"
  | "MALFORMED_STAMP"
  | "INVALID_YEAR"
  | "INVALID_MONTH"
  | "INVALID_DAY"
  | "INVALID_HOUR"
  | "INVALID_MINUTE"
  | "INVALID_SECOND"
  | "NAME_TOO_LONG";

export interface InvalidEntityKey {
  readonly code: InvalidEntityKeyCode;
  readonly message: string;
  /** 1-based position in the input of the offending character or field, when there is one. */
  readonly position?: number;
}

export type EntityKeyParseResult =
  { readonly ok: true; readonly key: EntityKey } | { readonly ok: false; readonly error: InvalidEntityKey };

const STAMP_SHAPE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/;
const SHOWN_INPUT_LENGTH = 60;

// One pass, left to right, one check per rule: longer than 80 lines because the rules read in the order a
// key is written, and each failure names its 1-based position; split up, the positions would be passed
// around instead of read.
export function parseEntityKey(text: string): EntityKeyParseResult {
  if (typeof text !== "string") {
    return invalid("EMPTY", `expected the key as text, got ${text === null ? "null" : typeof text}`);
  }
  const offset = text.length - text.trimStart().length;
  const key = text.trim();
  if (key.length === 0) {
    return invalid("EMPTY", text.length === 0 ? "the key is empty" : "the key is only whitespace");
  }
  const at = (index: number): number => offset + index + 1;

  for (let i = 0; i < key.length; i += 1) {
    const ch = key.charCodeAt(i);
    const isUpper = ch >= 65 && ch <= 90;
    const isDigit = ch >= 48 && ch <= 57;
    if (isUpper || isDigit || ch === 95) continue;
    if (ch >= 97 && ch <= 122) {
      return invalid(
        "LOWERCASE_LETTER",
        `lowercase letter '${key[i]}' at position ${at(i)} of ${show(key)}: keys use uppercase letters, digits and '_'`,
        at(i),
      );
    }
    return invalid(
      "INVALID_CHARACTER",
      `character ${describeChar(key, i)} at position ${at(i)} of ${show(key)} is not allowed: keys use uppercase letters, digits and '_'`,
      at(i),
    );
  }

  const lastUnderscore = key.lastIndexOf("_");
  const stamp = key.slice(lastUnderscore + 1);
  const stampIndex = lastUnderscore + 1;
  if (lastUnderscore === -1) {
    return STAMP_SHAPE.test(key)
      ? invalid("MISSING_NAME", `${show(key)} is only a stamp: expected NAME_YYYYMMDDTHHMMSS`, at(0))
      : invalid("MISSING_STAMP", `${show(key)} has no stamp: expected NAME_YYYYMMDDTHHMMSS`, at(key.length));
  }
  if (stamp.length === 0 || !/^\d/.test(stamp)) {
    return invalid(
      "MISSING_STAMP",
      `${show(key)} has no stamp: expected it to end with '_YYYYMMDDTHHMMSS'`,
      at(key.length),
    );
  }
  const fields = STAMP_SHAPE.exec(stamp);
  if (!fields) {
    return invalid(
      "MALFORMED_STAMP",
      `stamp '${stamp}' at position ${at(stampIndex)} of ${show(key)} is not YYYYMMDDTHHMMSS`,
      at(stampIndex),
    );
  }

  const name = key.slice(0, lastUnderscore);
  if (name.length === 0) {
    return invalid("MISSING_NAME", `${show(key)} has no name before the stamp`, at(0));
  }
  const segments = name.split("_");
  let segmentStart = 0;
  for (const segment of segments) {
    if (segment.length === 0) {
      return invalid(
        "EMPTY_SEGMENT",
        `empty name segment at position ${at(segmentStart)} of ${show(key)}: segments are joined by single '_'`,
        at(segmentStart),
      );
    }
    segmentStart += segment.length + 1;
  }
  if (name.length > MAX_NAME_LENGTH) {
    return invalid(
      "NAME_TOO_LONG",
      `the name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`,
      at(MAX_NAME_LENGTH),
    );
  }

  const [year, month, day, hour, minute, second] = fields.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fieldError = checkStampFields(year, month, day, hour, minute, second);
  if (fieldError) {
    const position = at(stampIndex + fieldError.index);
    return invalid(
      fieldError.code,
      `${fieldError.what} in stamp '${stamp}' at position ${position} of ${show(key)}`,
      position,
    );
  }
  const observedAt = new Date(0);
  observedAt.setUTCFullYear(year, month - 1, day);
  observedAt.setUTCHours(hour, minute, second, 0);
  return {
    ok: true,
    key: Object.freeze({ key, name, segments: Object.freeze(segments), stamp, observedAt }),
  };
}

/** The canonical text of a key, from its name and instant: `formatEntityKey(parse(k)) === k`. */
export function formatEntityKey(key: Pick<EntityKey, "name" | "observedAt">): string {
  return `${key.name}_${formatStamp(key.observedAt)}`;
}

function formatStamp(instant: Date): string {
  const pad = (n: number, width: number): string => String(n).padStart(width, "0");
  return (
    pad(instant.getUTCFullYear(), 4) +
    pad(instant.getUTCMonth() + 1, 2) +
    pad(instant.getUTCDate(), 2) +
    "T" +
    pad(instant.getUTCHours(), 2) +
    pad(instant.getUTCMinutes(), 2) +
    pad(instant.getUTCSeconds(), 2)
  );
}

interface StampFieldError {
  code: InvalidEntityKeyCode;
  what: string;
  /** Index of the field inside the stamp. */
  index: number;
}

const MONTH_NAMES = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function checkStampFields(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): StampFieldError | undefined {
  if (year < 1) return { code: "INVALID_YEAR", what: "year 0000 does not exist", index: 0 };
  if (month < 1 || month > 12)
    return { code: "INVALID_MONTH", what: `month ${month} is not 01-12`, index: 4 };
  const lastDay = daysInMonth(year, month);
  if (day < 1 || day > lastDay) {
    return {
      code: "INVALID_DAY",
      what: `${MONTH_NAMES[month - 1] ?? "month"} ${day} does not exist (${MONTH_NAMES[month - 1] ?? "month"} ${year} has ${lastDay} days)`,
      index: 6,
    };
  }
  if (hour > 23) return { code: "INVALID_HOUR", what: `hour ${hour} is not 00-23`, index: 9 };
  if (minute > 59) return { code: "INVALID_MINUTE", what: `minute ${minute} is not 00-59`, index: 11 };
  if (second > 59) return { code: "INVALID_SECOND", what: `second ${second} is not 00-59`, index: 13 };
  return undefined;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function invalid(code: InvalidEntityKeyCode, message: string, position?: number): EntityKeyParseResult {
  const error: InvalidEntityKey = position === undefined ? { code, message } : { code, message, position };
  return { ok: false, error: Object.freeze(error) };
}

/** The input, quoted and escaped (control characters never reach a log raw), shortened when long. */
function show(key: string): string {
  return key.length <= SHOWN_INPUT_LENGTH
    ? JSON.stringify(key)
    : `${JSON.stringify(key.slice(0, SHOWN_INPUT_LENGTH))}… (${key.length} characters)`;
}

function describeChar(text: string, index: number): string {
  const codePoint = text.codePointAt(index) ?? 0;
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}`;
  const printable = codePoint > 32 && codePoint !== 127 && !(codePoint >= 0x80 && codePoint < 0xa0);
  return printable ? `'${String.fromCodePoint(codePoint)}' (${hex})` : hex;
}
