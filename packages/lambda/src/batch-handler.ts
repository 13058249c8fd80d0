import type {
  DeadLetter,
  DeadLetterQueue,
  EntityService,
  ProcessRequest,
  ProcessResult,
} from "@entity/domain";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { decodeRecordBody } from "./record-body.ts";

/** The part of Powertools' Logger the handler uses (structured JSON, request id from the context). */
export type HandlerLogger = Pick<Logger, "addContext" | "debug" | "info" | "warn" | "error">;

export interface BatchHandlerDependencies {
  readonly service: EntityService;
  readonly deadLetters: DeadLetterQueue;
  readonly logger: HandlerLogger;
  /** Resolves when the function can take work (schema checked); memoised by the caller. */
  readonly ready: () => Promise<void>;
  /** Records per unit of work; the time check runs between units. */
  readonly chunkSize?: number;
  /** Stop taking new records when less than this (or a tenth of the invocation's time) is left. */
  readonly safetyMarginMillis?: number;
}

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

// Large enough that a batch of 1,000 is two units of work; small enough to stop in time when time runs short.
const DEFAULT_CHUNK_SIZE = 500;
const DEFAULT_SAFETY_MARGIN_MILLIS = 3000;

/**
 * The SQS batch handler: unwraps records, hands the keys to the domain's batch use case, sets aside what
 * can never succeed, relays the outbox and reports the rest as `batchItemFailures` for SQS to retry.
 */
export function createSqsBatchHandler(deps: BatchHandlerDependencies): SqsBatchHandler {
  const chunkSize = deps.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const margin = deps.safetyMarginMillis ?? DEFAULT_SAFETY_MARGIN_MILLIS;
  const { logger, service } = deps;

  return async (event, context) => {
    logger.addContext(context);
    const startedAt = Date.now();
    const records = event.Records ?? [];
    try {
      await deps.ready();
    } catch (error) {
      logger.error("function not ready: every record of the batch will be retried", {
        error: describe(error),
      });
      throw error;
    }
    // The margin scales with the function's Timeout: a tenth of the time this invocation started with, at
    // most the configured margin (3 s), so a 3 s function is not "out of time" before it starts.
    const invocationMargin = Math.min(margin, context.getRemainingTimeInMillis() / 10);
    const timeIsShort = (): boolean => context.getRemainingTimeInMillis() < invocationMargin;
    const failed = new Set<string>();
    const letters: DeadLetter[] = [];
    const requests: (ProcessRequest & { body: string })[] = [];
    for (const record of records) {
      const group = record.attributes?.MessageGroupId;
      const decoded = decodeRecordBody(record.body ?? "");
      if (decoded.ok) {
        requests.push({
          key: decoded.key,
          messageId: record.messageId,
          body: record.body,
          ...(group ? { group } : {}),
        });
      } else {
        letters.push({
          messageId: record.messageId,
          body: record.body ?? "",
          reasonCode: decoded.code,
          reason: decoded.reason,
          ...(group ? { group } : {}),
        });
      }
    }

    const results = await withinTime(
      service.processEntities(requests, { chunkSize, shouldStop: timeIsShort }),
      context.getRemainingTimeInMillis() - invocationMargin / 2,
    );
    if (results === "timed-out") {
      logger.warn("time ran out while processing; the batch's records will be retried", {
        records: requests.length,
      });
      for (const request of requests) failed.add(request.messageId);
    } else {
      results.forEach((result, index) => {
        const request = requests[index]!;
        const letter = logResult(logger, result, request.body, request.group);
        if (letter) letters.push(letter);
        else if (result.outcome === "failed") failed.add(result.messageId);
      });
    }

    const unsent = letters.length > 0 ? (await deps.deadLetters.send(letters)).failed : [];
    for (const messageId of unsent) {
      logger.error("could not move the record to the dead-letter queue; it will be retried", { messageId });
      failed.add(messageId);
    }

    let published = 0;
    if (results !== "timed-out") {
      const withEvents = results.filter((result) => "event" in result && result.event !== undefined);
      if (withEvents.length > 0 || !timeIsShort()) {
        const relay = timeIsShort() ? undefined : await service.relayOutbox({ batchSize: 500 });
        published = relay?.published.length ?? 0;
        if (!relay || relay.error || relay.failed.length > 0) {
          // Redelivery of these records (as duplicates) makes a later invocation relay their events.
          const sent = new Set(relay?.published ?? []);
          const unpublished = withEvents.filter(
            (result) => "event" in result && !sent.has(result.event!.eventId),
          );
          if (relay?.error)
            logger.error("outbox relay failed; events stay pending", { error: describe(relay.error) });
          for (const failure of relay?.failed ?? [])
            logger.warn("event not published", { eventId: failure.eventId, reason: failure.reason });
          for (const result of unpublished) failed.add(result.messageId);
        }
      }
    }

    const batchItemFailures = applyGroupOrder(records, failed).map((messageId) => ({
      itemIdentifier: messageId,
    }));
    logger.info("batch done", {
      records: records.length,
      failed: batchItemFailures.length,
      deadLettered: letters.length - unsent.length,
      eventsPublished: published,
      durationMs: Date.now() - startedAt,
    });
    return { batchItemFailures };
  };
}

/** Logs one result; returns a dead letter when the record can never succeed. */
function logResult(
  logger: HandlerLogger,
  result: ProcessResult,
  body: string,
  group: string | undefined,
): DeadLetter | undefined {
  const where = { messageId: result.messageId };
  switch (result.outcome) {
    case "created":
    case "updated":
    case "stale":
    case "duplicate":
      logger.info(`entity ${result.outcome}`, { ...where, entity: result.key.name, key: result.key.key });
      return undefined;
    case "invalid":
      logger.warn("invalid entity key: moving the record to the dead-letter queue", {
        ...where,
        code: result.reason.code,
        reason: result.reason.message,
      });
      return {
        messageId: result.messageId,
        body,
        reasonCode: result.reason.code,
        reason: result.reason.message,
        ...(group ? { group } : {}),
      };
    case "failed":
      if (!result.error.retryable) {
        logger.error("record can never succeed: moving it to the dead-letter queue", {
          ...where,
          code: result.error.code,
          reason: result.error.message,
        });
        return {
          messageId: result.messageId,
          body,
          reasonCode: result.error.code,
          reason: result.error.message,
          ...(group ? { group } : {}),
        };
      }
      logger.error("record failed; SQS will retry it", {
        ...where,
        code: result.error.code,
        reason: result.error.message,
      });
      return undefined;
  }
}

/** FIFO: once a record of a message group failed, every later record of that group is reported too. */
function applyGroupOrder(records: readonly SQSRecord[], failed: ReadonlySet<string>): string[] {
  const failedGroups = new Set<string>();
  const reported: string[] = [];
  for (const record of records) {
    const group = record.attributes?.MessageGroupId;
    const fails = failed.has(record.messageId) || (group !== undefined && failedGroups.has(group));
    if (!fails) continue;
    reported.push(record.messageId);
    if (group !== undefined) failedGroups.add(group);
  }
  return reported;
}

async function withinTime<T>(work: Promise<T>, millis: number): Promise<T | "timed-out"> {
  // The losing side of the race must not become an unhandled rejection.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timed-out">((resolve) => {
    timer = setTimeout(() => resolve("timed-out"), Math.max(0, millis));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
