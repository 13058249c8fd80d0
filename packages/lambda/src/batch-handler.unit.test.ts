import { InMemoryDeadLetterQueue, createTestApp, type TestApp } from "@entity/adapters/testing";
import {
  PortUnavailableError,
  TransientPortError,
  parseEntityKey,
  type EntityKey,
  type ProcessResult,
} from "@entity/domain";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import { beforeEach, describe, expect, it } from "vitest";
import { createSqsBatchHandler, type HandlerLogger, type SqsBatchHandler } from "./batch-handler.ts";

interface LogLine {
  level: string;
  message: string;
  extra?: Record<string, unknown>;
}

function recordingLogger(lines: LogLine[]): HandlerLogger {
  const at =
    (level: string) =>
    (message: unknown, extra?: unknown): void => {
      lines.push({ level, message: String(message), extra: extra as Record<string, unknown> });
    };
  return {
    addContext: () => undefined,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  } as unknown as HandlerLogger;
}

let sequence = 0;
function sqsRecord(body: string, options: { messageId?: string; group?: string } = {}): SQSRecord {
  sequence += 1;
  return {
    messageId: options.messageId ?? `message-${sequence}`,
    receiptHandle: `handle-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "1654662769000",
      SenderId: "sender",
      ApproximateFirstReceiveTimestamp: "1654662769010",
      ...(options.group
        ? {
            MessageGroupId: options.group,
            MessageDeduplicationId: `d${sequence}`,
            SequenceNumber: `${sequence}`,
          }
        : {}),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:eu-west-1:123456789012:entity-queue${options.group ? ".fifo" : ""}`,
    awsRegion: "eu-west-1",
  };
}

function lambdaContext(remainingMillis: () => number = () => 30_000): Context {
  return {
    awsRequestId: "request-1",
    functionName: "EntityFunction",
    getRemainingTimeInMillis: remainingMillis,
  } as unknown as Context;
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });
const failures = (response: { batchItemFailures: { itemIdentifier: string }[] }): string[] =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier);

describe("the SQS batch handler", () => {
  let app: TestApp;
  let deadLetters: InMemoryDeadLetterQueue;
  let logs: LogLine[];
  let handler: SqsBatchHandler;
  let transientStoreFailure = false;

  beforeEach(() => {
    transientStoreFailure = false;
    app = createTestApp({
      store: {
        beforeWrite: () => {
          if (transientStoreFailure)
            throw new TransientPortError("database unreachable", { code: "DB_UNAVAILABLE" });
        },
      },
    });
    deadLetters = new InMemoryDeadLetterQueue();
    logs = [];
    handler = createSqsBatchHandler({
      service: app,
      deadLetters,
      logger: recordingLogger(logs),
      ready: () => Promise.resolve(),
      chunkSize: 2,
    });
  });

  it("acknowledges every record when all succeed and relays their events", async () => {
    const response = await handler(
      event(
        sqsRecord("A_20220101T000000"),
        sqsRecord(JSON.stringify({ entity: "A_20220102T000000" })),
        sqsRecord("A_20220101T000000"),
        sqsRecord("A_20211231T000000"),
      ),
      lambdaContext(),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect(app.publishedEvents().map((e) => e.type)).toEqual(["entity.created", "entity.updated"]);
    expect(logs.filter((line) => line.message.startsWith("entity ")).map((line) => line.message)).toEqual([
      "entity created",
      "entity updated",
      "entity duplicate",
      "entity stale",
    ]);
    expect(logs.find((line) => line.message === "entity created")?.extra).toMatchObject({
      messageId: expect.any(String) as string,
      entity: "A",
    });
  });

  it("unwraps SNS envelopes", async () => {
    const envelope = JSON.stringify(
      { Type: "Notification", TopicArn: "arn", Subject: null, Message: "SNS_20220101T000000" },
      null,
      2,
    );
    expect(await handler(event(sqsRecord(envelope)), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect((await app.getEntity("SNS"))?.state.latestKey).toBe("SNS_20220101T000000");
  });

  it("moves invalid keys and undecodable bodies to the DLQ with the reason, and acknowledges them", async () => {
    const bad = sqsRecord("MY_ENTITY_20221308T000000", { messageId: "bad-key" });
    const broken = sqsRecord("{oops", { messageId: "bad-json" });
    const good = sqsRecord("GOOD_20220101T000000");
    expect(await handler(event(bad, broken, good), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(deadLetters.letters).toEqual([
      {
        messageId: "bad-json",
        body: "{oops",
        reasonCode: "MALFORMED_JSON",
        reason: expect.stringMatching(/does not parse/) as string,
      },
      {
        messageId: "bad-key",
        body: "MY_ENTITY_20221308T000000",
        reasonCode: "INVALID_MONTH",
        reason: expect.stringMatching(/month 13/) as string,
      },
    ]);
  });

  it("logs a WARN with the message id and reason code for every undecodable body it dead-letters", async () => {
    const broken = sqsRecord("{oops", { messageId: "bad-json" });
    const noEntity = sqsRecord(JSON.stringify({ other: 1 }), { messageId: "no-entity" });
    await handler(event(broken, noEntity), lambdaContext());
    const warnings = logs.filter((line) => line.level === "warn");
    expect(warnings.map((line) => [line.message, line.extra?.messageId, line.extra?.code])).toEqual([
      ["undecodable record body: moving the record to the dead-letter queue", "bad-json", "MALFORMED_JSON"],
      ["undecodable record body: moving the record to the dead-letter queue", "no-entity", "MISSING_ENTITY"],
    ]);
  });

  it.each([
    [{ Records: "x" }, "a string"],
    [{ Records: { 0: "x" } }, "an object"],
  ])("refuses an event whose Records is not a list (%j): the whole batch fails", async (bad, found) => {
    await expect(handler(bad as unknown as SQSEvent, lambdaContext())).rejects.toThrow(
      `not an SQS event: its 'Records' is ${found}, not a list of records`,
    );
    expect(deadLetters.letters).toEqual([]);
    expect(logs.some((line) => line.level === "error" && line.message.includes("not an SQS event"))).toBe(
      true,
    );
  });

  it("dead-letters a record with no body, or a non-string one, instead of failing the batch", async () => {
    const missing = { ...sqsRecord(""), messageId: "no-body", body: undefined } as unknown as SQSRecord;
    const numeric = { ...sqsRecord(""), messageId: "numeric", body: 42 } as unknown as SQSRecord;
    const good = sqsRecord("GOOD_20220101T000000");
    expect(await handler(event(missing, numeric, good), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(deadLetters.letters).toEqual([
      {
        messageId: "no-body",
        body: "",
        reasonCode: "MISSING_BODY",
        reason: "record has no string 'body' (found none)",
      },
      {
        messageId: "numeric",
        body: "42",
        reasonCode: "MISSING_BODY",
        reason: "record has no string 'body' (found a number)",
      },
    ]);
    expect((await app.getEntity("GOOD"))?.state.latestKey).toBe("GOOD_20220101T000000");
  });

  it("reports dead letters as failed when the DLQ cannot take them, so nothing is lost", async () => {
    deadLetters.failNext(1);
    const bad = sqsRecord("not a key", { messageId: "bad" });
    expect(failures(await handler(event(bad, sqsRecord("OK_20220101T000000")), lambdaContext()))).toEqual([
      "bad",
    ]);
  });

  it("reports records as failed (for SQS to retry) when the database is down", async () => {
    transientStoreFailure = true;
    const records = [sqsRecord("A_20220101T000000"), sqsRecord("B_20220101T000000")];
    expect(failures(await handler(event(...records), lambdaContext()))).toEqual(
      records.map((r) => r.messageId),
    );
    transientStoreFailure = false;
    expect(await handler(event(...records), lambdaContext())).toEqual({ batchItemFailures: [] });
  });

  it("reports records whose events could not be published, and succeeds on redelivery", async () => {
    app.publisher.failNext(1);
    const record = sqsRecord("PUB_20220101T000000");
    expect(failures(await handler(event(record), lambdaContext()))).toEqual([record.messageId]);
    expect(app.publishedEvents()).toEqual([]);
    expect(await handler(event(record), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(app.publishedEvents().map((e) => e.key)).toEqual(["PUB_20220101T000000"]);
  });

  it("FIFO: after a failure in a group, later records of that group fail too; other groups go on", async () => {
    deadLetters.failNext(1);
    const a1 = sqsRecord("A_20220101T000000", { group: "A" });
    const a2 = sqsRecord("bad key", { group: "A" });
    const b1 = sqsRecord("B_20220101T000000", { group: "B" });
    const a3 = sqsRecord("A_20220103T000000", { group: "A" });
    const b2 = sqsRecord("B_20220102T000000", { group: "B" });
    expect(failures(await handler(event(a1, a2, b1, a3, b2), lambdaContext()))).toEqual([
      a2.messageId,
      a3.messageId,
    ]);
    expect((await app.getEntity("B"))?.state.latestKey).toBe("B_20220102T000000");
  });

  it("stops taking new records when the time runs short and reports the rest as failed", async () => {
    let remaining = 10_000;
    const records = Array.from({ length: 6 }, (_, i) => sqsRecord(`T_${i}_20220101T000000`));
    const context = lambdaContext(() => {
      remaining -= 3000;
      return remaining;
    });
    const response = await handler(event(...records), context);
    const done = app.store.snapshot().observations.map((o) => o.messageId);
    expect(done.length).toBeGreaterThan(0);
    expect(done.length).toBeLessThan(records.length);
    // Nothing is lost: every record not committed is reported; committed ones whose events could not be
    // relayed in time are reported too (they come back as duplicates and get relayed then).
    const notDone = records.map((r) => r.messageId).filter((id) => !done.includes(id));
    expect(failures(response)).toEqual(expect.arrayContaining(notDone));
  });

  it("throws, sending nothing to the DLQ, when the database cannot be reached: the batch is retried whole", async () => {
    let unavailable = true;
    const down = createTestApp({
      store: {
        beforeWrite: () => {
          if (unavailable)
            throw new PortUnavailableError("password authentication failed", { code: "DB_AUTH_FAILED" });
        },
      },
    });
    const unavailableHandler = createSqsBatchHandler({
      service: down,
      deadLetters,
      logger: recordingLogger(logs),
      ready: () => Promise.resolve(),
      chunkSize: 1,
    });
    const records = [
      sqsRecord("not a key"),
      sqsRecord("UA_20220101T000000"),
      sqsRecord("UB_20220101T000000"),
    ];
    await expect(unavailableHandler(event(...records), lambdaContext())).rejects.toMatchObject({
      code: "DB_AUTH_FAILED",
    });
    expect(deadLetters.letters).toEqual([]);
    expect(logs.filter((line) => line.message.startsWith("record failed"))).toEqual([]);
    unavailable = false;
    expect(await unavailableHandler(event(...records), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(deadLetters.letters.map((letter) => letter.messageId)).toEqual([records[0]!.messageId]);
  });

  it("relays a redelivered record's still-pending event before acknowledging it", async () => {
    const record = sqsRecord("STRANDED_20220101T000000");
    app.publisher.failNext(1);
    expect(failures(await handler(event(record), lambdaContext()))).toEqual([record.messageId]);
    expect(await handler(event(record), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(app.publishedEvents().map((e) => e.key)).toEqual(["STRANDED_20220101T000000"]);
    expect(logs.map((line) => line.message)).toContain("entity duplicate");
  });

  it("acknowledges a record whose event was parked, and logs the parked event at ERROR", async () => {
    app.publisher.rejectEvents(() => true, { retryable: false });
    const record = sqsRecord("REFUSED_20220101T000000");
    expect(await handler(event(record), lambdaContext())).toEqual({ batchItemFailures: [] });
    const parked = logs.find((line) => line.message.startsWith("event parked"));
    expect(parked).toMatchObject({
      level: "error",
      extra: { entity: "REFUSED", reason: expect.any(String) as string },
    });
  });

  it("at the deadline interrupts the database work and reports the batch, returning before the Timeout", async () => {
    let interrupted = 0;
    let release: () => void = () => undefined;
    const hanging = createTestApp({
      store: {
        beforeWrite: () => {
          throw new Error("not reached");
        },
      },
    });
    // Failures are values: once cancelled, the unit of work's statement fails and the result says so.
    const service = {
      ...hanging,
      processEntities: (requests: readonly { key: string; messageId: string }[]) =>
        new Promise<ProcessResult[]>((resolve) => {
          release = () =>
            resolve(
              requests.map((request) => ({
                outcome: "failed" as const,
                messageId: request.messageId,
                key: (parseEntityKey(request.key) as { ok: true; key: EntityKey }).key,
                error: new TransientPortError("canceling statement due to user request", {
                  code: "DB_CANCELLED",
                }),
              })),
            );
        }),
    };
    const deadlineHandler = createSqsBatchHandler({
      service,
      deadLetters,
      logger: recordingLogger(logs),
      ready: () => Promise.resolve(),
      interrupt: () => {
        interrupted += 1;
        release();
        return Promise.resolve();
      },
    });
    const endsAt = Date.now() + 1000;
    const records = [sqsRecord("HUNG_20220101T000000")];
    const response = await deadlineHandler(
      event(...records),
      lambdaContext(() => endsAt - Date.now()),
    );
    expect(interrupted).toBe(1);
    expect(Date.now()).toBeLessThan(endsAt);
    expect(failures(response)).toEqual([records[0]!.messageId]);
  });

  it("returns an empty list for an empty batch", async () => {
    expect(await handler({ Records: [] }, lambdaContext())).toEqual({ batchItemFailures: [] });
  });

  it("throws (every record retried) when the function is not ready", async () => {
    const notReady = createSqsBatchHandler({
      service: app,
      deadLetters,
      logger: recordingLogger(logs),
      ready: () => Promise.reject(new Error("schema behind")),
    });
    await expect(notReady(event(sqsRecord("A_20220101T000000")), lambdaContext())).rejects.toThrow(
      "schema behind",
    );
    expect(app.store.snapshot().observations).toEqual([]);
  });
});
