import type { EntityService } from "@entity/domain";
import type { Context, ScheduledEvent } from "aws-lambda";
import type { HandlerLogger } from "./logger.ts";
import { invocationDeadline } from "./deadline.ts";
import { logDelivery } from "./delivery-log.ts";

export interface RelaySummary {
  readonly published: number;
  readonly failed: number;
  readonly parked: number;
  readonly durationMs: number;
}

export type RelayHandler = (
  event: ScheduledEvent | Record<string, never>,
  context: Context,
) => Promise<RelaySummary>;

export interface RelayHandlerDependencies {
  readonly service: EntityService;
  readonly logger: HandlerLogger;
  readonly ready: () => Promise<void>;
  readonly interrupt?: (graceMs: number) => Promise<void>;
  readonly onInvocation?: (remainingMs: number) => void;
  readonly batchSize?: number;
  readonly safetyMarginMillis?: number;
}

/**
 * The scheduled outbox relay (an EventBridge schedule in template.yaml): publishes every event that is
 * due, in rounds, until none is left or the time runs short, so events whose first delivery failed go out
 * even when no more traffic arrives. What cannot be published is retried later or parked, with an ERROR
 * log line per parked event.
 */
export function createRelayHandler(deps: RelayHandlerDependencies): RelayHandler {
  const { logger, service } = deps;
  return async (_event, context) => {
    logger.addContext(context);
    const startedAt = Date.now();
    deps.onInvocation?.(context.getRemainingTimeInMillis());
    await deps.ready();
    const deadline = invocationDeadline(context, {
      marginMs: deps.safetyMarginMillis ?? 3000,
      interrupt: deps.interrupt ?? (() => Promise.resolve()),
    });
    const relay = await deadline.bound(
      service.relayOutbox({
        batchSize: deps.batchSize ?? 500,
        maxRounds: 10_000,
        shouldStop: () => deadline.timeIsShort(),
      }),
    );
    if (relay === "interrupted") {
      logger.warn("time ran out while relaying; the rest waits for the next run");
      return { published: 0, failed: 0, parked: 0, durationMs: Date.now() - startedAt };
    }
    logDelivery(logger, relay);
    const summary = {
      published: relay.published.length,
      failed: relay.failed.length,
      parked: relay.parked.length,
      durationMs: Date.now() - startedAt,
    };
    logger.info("relay done", { ...summary });
    return summary;
  };
}
