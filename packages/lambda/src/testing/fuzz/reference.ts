import { MAX_NAME_LENGTH } from "@entity/domain";

/**
 * The fuzz's judge of what a record must end as, written from the documentation (entity-key.ts's and
 * record-body.ts's doc comments), not from their code: a fuzz that asked the parser whether the parser
 * was right would find nothing.
 */
export interface ReferenceKey {
  /** The canonical key: the text as given, trimmed. */
  readonly key: string;
  readonly name: string;
  readonly observedAt: Date;
}

// NAME: segments of A-Z and 0-9 joined by single '_'; then '_' and a UTC stamp YYYYMMDDTHHMMSS.
const KEY_SHAPE = /^([A-Z0-9]+(?:_[A-Z0-9]+)*)_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})$/;

/** The key `text` stands for, or undefined when it is not a valid key. */
export function referenceKey(text: string): ReferenceKey | undefined {
  const key = text.trim();
  const match = KEY_SHAPE.exec(key);
  if (!match) return undefined;
  const name = match[1]!;
  if (name.length > MAX_NAME_LENGTH) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(2).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (year < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // A day that does not exist rolls over into the next month: the round trip tells.
  const observedAt = new Date(0);
  observedAt.setUTCFullYear(year, month - 1, day);
  observedAt.setUTCHours(hour, minute, second, 0);
  const exists =
    observedAt.getUTCFullYear() === year &&
    observedAt.getUTCMonth() === month - 1 &&
    observedAt.getUTCDate() === day;
  return exists ? { key, name, observedAt } : undefined;
}

/**
 * Every key a body could be read as, under any of the documented shapes (the key itself, a JSON string,
 * `{"entity": KEY}`, an SNS envelope's `Message` holding one of those, envelopes inside envelopes), valid
 * ones only. Used for bodies whose intended reading is open (random JSON, ambiguous objects): if the
 * handler stores such a record, what it stored must be one of these.
 */
export function possibleKeys(body: string, depth = 3): ReferenceKey[] {
  const readings = new Map<string, ReferenceKey>();
  const visit = (text: string, level: number): void => {
    const plain = referenceKey(text);
    if (plain) readings.set(plain.key, plain);
    if (level === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text.trim());
    } catch {
      return;
    }
    if (typeof value === "string") visit(value, level - 1);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return;
    const fields = value as Record<string, unknown>;
    if (typeof fields.entity === "string") visit(fields.entity, 0);
    if (typeof fields.Message === "string") visit(fields.Message, level - 1);
  };
  visit(body, depth);
  return [...readings.values()];
}
