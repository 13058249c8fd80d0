import type { DeliveryOptions, DeliveryResult } from "./delivery.ts";
import { asPortError } from "./errors.ts";
import type { ProcessResult } from "./use-cases.ts";

export interface DeliveryPipeline {
  /** Starts delivering the events of these committed results, after what was handed in before. */
  readonly add: (results: readonly ProcessResult[]) => void;
  /** Everything handed in, delivered (or given up on), as one result. */
  done(): Promise<DeliveryResult>;
}

/**
 * Delivers each chunk's events straight after its commit (pass `add` as `ProcessOptions.onCommitted`), so
 * publishing one chunk overlaps processing the next. Deliveries run one after the other, in commit order,
 * which is what an ordered (FIFO) publisher needs; an event handed in twice (a key redelivered in a later
 * chunk carries the still-pending event) is delivered once.
 */
export function deliveryPipeline(
  deliver: (results: readonly ProcessResult[], options?: DeliveryOptions) => Promise<DeliveryResult>,
  options: DeliveryOptions = {},
): DeliveryPipeline {
  const handedIn = new Set<string>();
  let chain: Promise<DeliveryResult> = Promise.resolve({ published: [], failed: [], parked: [] });
  return {
    add(results) {
      const fresh = results.filter((result) => {
        if (!("event" in result) || !result.event || handedIn.has(result.event.eventId)) return false;
        handedIn.add(result.event.eventId);
        return true;
      });
      if (fresh.length === 0) return;
      chain = chain.then(async (before) => {
        try {
          return merge(before, await deliver(fresh, options));
        } catch (thrown) {
          return merge(before, { published: [], failed: [], parked: [], error: asPortError(thrown) });
        }
      });
    },
    done: () => chain,
  };
}

function merge(a: DeliveryResult, b: DeliveryResult): DeliveryResult {
  const error = b.error ?? a.error;
  return {
    published: [...a.published, ...b.published],
    failed: [...a.failed, ...b.failed],
    parked: [...a.parked, ...b.parked],
    ...(error ? { error } : {}),
  };
}
