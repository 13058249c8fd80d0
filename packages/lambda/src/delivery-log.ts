import type { DeliveryResult } from "@entity/domain";
import type { HandlerLogger } from "./logger.ts";

/** One line per event that failed or was parked (ERROR: it waits for a redrive), one for a failed step. */
export function logDelivery(logger: HandlerLogger, delivery: DeliveryResult): void {
  if (delivery.error)
    logger.error("publishing failed; events stay pending", {
      error: `${delivery.error.name}: ${delivery.error.message}`,
    });
  for (const failure of delivery.failed) {
    logger.warn("event not published; it will be retried", {
      eventId: failure.eventId,
      reason: failure.reason,
    });
  }
  for (const parked of delivery.parked) {
    logger.error("event parked: it will not be published until redriven", {
      eventId: parked.eventId,
      entity: parked.entityName,
      attempts: parked.attempts,
      reason: parked.reason,
    });
  }
}
