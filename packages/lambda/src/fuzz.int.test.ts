import { InMemoryDeadLetterQueue, InMemoryEventPublisher, ManualClock } from "@entity/adapters/memory";
import {
  KyselyEntityStore,
  KyselyOutbox,
  migrateToLatest,
  type EntityDatabase,
} from "@entity/adapters/postgres";
import { createTestDatabase } from "@entity/adapters/testing";
import { createEntityService, parseEntityKey } from "@entity/domain";
import type { Context, SQSRecord } from "aws-lambda";
import fc from "fast-check";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSqsBatchHandler, type HandlerLogger, type SqsBatchHandler } from "./batch-handler.ts";
import { decodeRecordBody } from "./record-body.ts";

// Bad input through the real handler and real Postgres: random bodies, random JSON, broken SNS envelopes,
// SQL fragments, NUL bytes, lone surrogates, 1 MB bodies. No crash; every record is either stored exactly
// as given or set aside with a reason; the schema is untouched (nothing that looks like SQL ever runs).

let db: Kysely<EntityDatabase>;
let handler: SqsBatchHandler;
let deadLetters: InMemoryDeadLetterQueue;
const silent = {
  addContext: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as HandlerLogger;
const context = { awsRequestId: "fuzz", getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

beforeAll(async () => {
  const database = await createTestDatabase("fuzz");
  db = new Kysely<EntityDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ ...database.config, max: 2 }) }),
  });
  await migrateToLatest(db);
  const service = createEntityService({
    repository: new KyselyEntityStore(db),
    outbox: new KyselyOutbox(db),
    publisher: new InMemoryEventPublisher(),
    clock: new ManualClock(),
  });
  deadLetters = new InMemoryDeadLetterQueue();
  handler = createSqsBatchHandler({ service, deadLetters, logger: silent, ready: () => Promise.resolve() });
});
afterAll(async () => {
  await db?.destroy();
});

const sqlFragments = [
  "'; DROP TABLE entity; --",
  '"); DELETE FROM observation; --',
  "' OR '1'='1",
  "$1",
  "\\x00",
  "E'\\\\'",
  "$$; truncate outbox; $$",
];
const nasty = fc.constantFrom(...sqlFragments, "\u0000", "\uD800", "\uFFFF", "😀", "\u202E", "\r\n", "  ");
const keyLike = fc
  .tuple(
    fc.stringMatching(/^[A-Z][A-Z0-9]{0,6}(_[A-Z0-9]{1,6}){0,3}$/),
    fc.integer({ min: 2000, max: 2030 }),
    fc.integer({ min: 1, max: 12 }),
    fc.integer({ min: 1, max: 28 }),
  )
  .map(
    ([name, year, month, day]) =>
      `${name}_${year}${String(month).padStart(2, "0")}${String(day).padStart(2, "0")}T120000`,
  );
const mangledKey = fc
  .tuple(keyLike, nasty, fc.nat({ max: 40 }))
  .map(([key, bad, at]) => key.slice(0, at) + bad + key.slice(at));
const envelope = (message: unknown): string =>
  JSON.stringify({ Type: "Notification", TopicArn: "arn:aws:sns:eu-west-1:1:t", Message: message }, null, 2);
const body = fc.oneof(
  keyLike,
  mangledKey,
  keyLike.map((key) => JSON.stringify({ entity: key })),
  mangledKey.map((key) => JSON.stringify({ entity: key })),
  keyLike.map((key) => envelope(key)),
  mangledKey.map((key) => envelope(JSON.stringify({ entity: key }))),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.jsonValue().map((value) => envelope(value)),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.constantFrom(
    '{"Type":"Notification","Message":',
    '{"entity": "A_20220101T000000"',
    "[",
    "{}",
    "null",
    '""',
    envelope(null),
    '{"Type":"Notification"}',
  ),
  fc.constant("A".repeat(1_048_000)),
  fc.constant(`${"X".repeat(1_048_000)}_20220101T000000`),
);
const messageId = fc.oneof(
  fc.uuid(),
  fc.constantFrom(...sqlFragments),
  fc.string({ minLength: 1, maxLength: 40 }),
);

describe("fuzzing the handler with bad input, against Postgres 17", () => {
  it("never crashes, stores exactly what it accepts and sets everything else aside with a reason", async () => {
    let sequence = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(body, messageId), { minLength: 1, maxLength: 10 }),
        async (items) => {
          const records = items.map(([text, id]) => {
            sequence += 1;
            return { messageId: `${id}#${sequence}`, body: text, attributes: {} } as unknown as SQSRecord;
          });
          const before = deadLetters.letters.length;
          const response = await handler({ Records: records }, context);
          expect(response.batchItemFailures).toEqual([]);
          const lettered = new Map(
            deadLetters.letters.slice(before).map((letter) => [letter.messageId, letter]),
          );
          for (const record of records) {
            const decoded = decodeRecordBody(record.body);
            const parsed = decoded.ok ? parseEntityKey(decoded.key) : undefined;
            if (parsed?.ok) {
              const stored = await db
                .selectFrom("observation")
                .select(["key", "message_id"])
                .where("key", "=", parsed.key.key)
                .executeTakeFirst();
              expect(stored?.key).toBe(parsed.key.key);
              expect(lettered.has(record.messageId)).toBe(false);
            } else {
              const letter = lettered.get(record.messageId);
              expect(letter?.body).toBe(record.body);
              expect(letter?.reason.length).toBeGreaterThan(0);
              expect(letter?.reasonCode).toMatch(/^[A-Z_]+$/);
            }
          }
        },
      ),
      { numRuns: 120 },
    );
    // Nothing that looked like SQL ran: the tables are all there, and every stored message id is one we sent.
    const tables = await sql<{
      n: number;
    }>`select count(*)::int as n from information_schema.tables where table_name in ('entity', 'observation', 'outbox')`.execute(
      db,
    );
    expect(tables.rows[0]?.n).toBe(3);
    const ids = await db.selectFrom("observation").select("message_id").execute();
    expect(ids.every((row) => /#\d+$/.test(row.message_id))).toBe(true);
    const fragments = await db
      .selectFrom("observation")
      .select("message_id")
      .where("message_id", "like", "%DROP TABLE%")
      .execute();
    expect(fragments.every((row) => row.message_id.startsWith("'; DROP TABLE entity; --#"))).toBe(true);
  }, 120_000);
});
