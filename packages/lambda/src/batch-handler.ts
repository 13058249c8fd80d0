import {
  PortUnavailableError,
  deliveryPipeline,
  type DeadLetter,
  type DeliveryResult,
  type DeadLetterQueue,
  type EntityService,
  type ProcessRequest,
  type ProcessResult,
} from "@entity/domain";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { invocationDeadline } from "./deadline.ts";
import { logDelivery } from "./delivery-log.ts";
import type { HandlerLogger } from "./logger.ts";
import { decodeRecordBody, type DecodedBody } from "./record-body.ts";

export type { HandlerLogger } from "./logger.ts";

export interface BatchHandlerDependencies {
  readonly service: EntityService;
  readonly deadLetters: DeadLetterQueue;
  readonly logger: HandlerLogger;
  /** Resolves when the function can take work (schema checked); memoised by the caller. */
  readonly ready: () => Promise<void>;
  /** Cancels the database work in flight (at the deadline); see `PostgresDatabase.interrupt`. */
  readonly interrupt?: (graceMs: number) => Promise<void>;
  /** Told the time each invocation starts with (the function's Timeout, for the database's limits). */
  readonly onInvocation?: (remainingMs: number) => void;
  /** Records per unit of work; the time check runs between units. */
  readonly chunkSize?: number;
  /** Stop taking new records when less than this (or a fifth of the invocation's time) is left. */
  readonly safetyMarginMillis?: number;
}

export type SqsBatchHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

// Large enough that a batch of 1,000 is two units of work; small enough to stop in time when time runs short.
const DEFAULT_CHUNK_SIZE = 500;
const DEFAULT_SAFETY_MARGIN_MILLIS = 3000;

type DecodedRequest = ProcessRequest & { readonly body: string };

/**
 * The SQS batch handler: unwraps records, hands the keys to the domain's batch use case, delivers the
 * batch's events, sets aside what can never succeed and reports the rest as `batchItemFailures` for SQS
 * to retry. A record is acknowledged only once its event is published (or parked with a reason). When the
 * database cannot be reached at all, it throws: the whole batch is retried, nothing is dead-lettered.
 */
export function createSqsBatchHandler(deps: BatchHandlerDependencies): SqsBatchHandler {
  const chunkSize = deps.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const { logger, service } = deps;
  const interrupt = deps.interrupt ?? (() => Promise.resolve());

  return async (event, context) => {
    logger.addContext(context);
    const startedAt = Date.now();
    deps.onInvocation?.(context.getRemainingTimeInMillis());
    const records = recordsOf(event, logger);
    try {
      await deps.ready();
    } catch (error) {
      logger.error("function not ready: every record of the batch will be retried", {
        error: describe(error),
      });
      throw error;
    }
    const deadline = invocationDeadline(context, {
      marginMs: deps.safetyMarginMillis ?? DEFAULT_SAFETY_MARGIN_MILLIS,
      interrupt,
    });
    const { requests, letters } = decodeRecords(records, logger);
    const failed = new Set<string>();

    // Each chunk's events go out straight after its commit, while the next chunk is processed.
    const shouldStop = (): boolean => deadline.timeIsShort();
    const pipeline = deliveryPipeline((done, options) => service.deliverEvents(done, options), {
      shouldStop,
    });
    const processed = await deadline.bound(
      service.processEntities(requests, { chunkSize, shouldStop, onCommitted: pipeline.add }),
    );
    const delivered = deadline.bound(pipeline.done());
    const results = processed === "interrupted" ? [] : processed;
    if (processed === "interrupted") {
      logger.warn("time ran out while processing; the batch's records will be retried", {
        records: requests.length,
      });
      for (const request of requests) failed.add(request.messageId);
    }
    // Deliveries already under way finish before the invocation ends, whatever happens next.
    await delivered;
    throwWhenUnavailable(results, logger);
    results.forEach((result, index) => {
      const request = requests[index]!;
      const letter = triage(logger, result, request.body, request.group);
      if (letter) letters.push(letter);
      else if (result.outcome === "failed") failed.add(result.messageId);
    });

    const published = settleDelivery(results, await delivered, failed);
    const unsent = letters.length > 0 ? (await deps.deadLetters.send(letters)).failed : [];
    for (const messageId of unsent) {
      logger.error("could not move the record to the dead-letter queue; it will be retried", { messageId });
      failed.add(messageId);
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

  /** Logs the results' delivery; a record whose event is neither published nor parked is retried. */
  function settleDelivery(
    results: readonly ProcessResult[],
    delivery: DeliveryResult | "interrupted",
    failed: Set<string>,
  ): number {
    const settled = new Set<string>();
    if (delivery === "interrupted") {
      logger.warn("time ran out while publishing; events stay pending for a redelivery or the relay");
    } else {
      logDelivery(logger, delivery);
      for (const id of [...delivery.published, ...delivery.parked.map((parked) => parked.eventId)])
        settled.add(id);
    }
    for (const result of results) {
      if ("event" in result && result.event && !settled.has(result.event.eventId))
        failed.add(result.messageId);
    }
    return delivery === "interrupted" ? 0 : delivery.published.length;
  }
}

/**
 * The event's records. An event that is not an SQS batch (`Records` a string, an object, ...) is refused
 * as a whole: iterating it would make "records" of its characters.
 */
function recordsOf(event: SQSEvent, logger: HandlerLogger): readonly SQSRecord[] {
  const records: unknown = (event as Partial<SQSEvent> | null | undefined)?.Records;
  if (records === undefined) return [];
  if (Array.isArray(records)) return records as SQSRecord[];
  const problem = `not an SQS event: its 'Records' is ${describeValue(records)}, not a list of records`;
  logger.error(`${problem}; the whole invocation fails`);
  throw new TypeError(problem);
}

function decodeRecords(
  records: readonly SQSRecord[],
  logger: HandlerLogger,
): { requests: DecodedRequest[]; letters: DeadLetter[] } {
  const requests: DecodedRequest[] = [];
  const letters: DeadLetter[] = [];
  for (const record of records) {
    const group = record.attributes?.MessageGroupId;
    // A hand-written or foreign event may carry no body, or a non-string one: that is a dead letter with
    // its own reason, never a crash that fails the whole batch.
    const body: unknown = record.body;
    const decoded: DecodedBody =
      typeof body === "string"
        ? decodeRecordBody(body)
        : {
            ok: false,
            code: "MISSING_BODY",
            reason: `record has no string 'body' (found ${describeValue(body)})`,
          };
    const kept = typeof body === "string" ? body : (JSON.stringify(body) ?? "");
    if (decoded.ok) {
      requests.push({
        key: decoded.key,
        messageId: record.messageId,
        body: kept,
        ...(group ? { group } : {}),
      });
    } else {
      logger.warn("undecodable record body: moving the record to the dead-letter queue", {
        messageId: record.messageId,
        code: decoded.code,
        reason: decoded.reason,
      });
      letters.push({
        messageId: record.messageId,
        body: kept,
        reasonCode: decoded.code,
        reason: decoded.reason,
        ...(group ? { group } : {}),
      });
    }
  }
  return { requests, letters };
}

/** An unreachable database (or refused credentials) fails the invocation: SQS retries the batch as a whole. */
function throwWhenUnavailable(results: readonly ProcessResult[], logger: HandlerLogger): void {
  for (const result of results) {
    if (result.outcome === "failed" && result.error instanceof PortUnavailableError) {
      logger.error("database unavailable: the whole batch will be retried", {
        code: result.error.code,
        reason: result.error.message,
      });
      throw result.error;
    }
  }
}

/** Logs one processing result and decides its fate: a dead letter when the record can never succeed. */
function triage(
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
      return deadLetter(result.messageId, body, result.reason.code, result.reason.message, group);
    case "failed":
      if (!result.error.retryable) {
        logger.error("record can never succeed: moving it to the dead-letter queue", {
          ...where,
          code: result.error.code,
          reason: result.error.message,
        });
        return deadLetter(result.messageId, body, result.error.code, result.error.message, group);
      }
      logger.error("record failed; SQS will retry it", {
        ...where,
        code: result.error.code,
        reason: result.error.message,
      });
      return undefined;
  }
}

function deadLetter(
  messageId: string,
  body: string,
  reasonCode: string,
  reason: string,
  group: string | undefined,
): DeadLetter {
  return { messageId, body, reasonCode, reason, ...(group ? { group } : {}) };
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

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function describeValue(value: unknown): string {
  if (value === undefined) return "none";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
