import { LocalAwsError } from "../errors.ts";
import {
  resolveTemplateValue,
  type SamFunctionDefinition,
  type SamTemplate,
} from "../template/sam-template.ts";
import type { MappingSettings } from "./event-source-mapping.ts";
import type { LocalCloud, LocalQueue } from "./local-cloud.ts";

/** A function's SQS event source, as Lambda would map it, and its queue's redrive policy. */
export interface EventSourceSpec {
  readonly queue: LocalQueue;
  readonly settings: MappingSettings;
  readonly deadLetterQueue: LocalQueue | undefined;
  readonly maxReceiveCount: number;
}

/**
 * The function's SQS event source: its queue, the template's BatchSize, batching window,
 * MaximumConcurrency and response types (or the given replacements), and the queue's redrive policy.
 * Refuses (VISIBILITY_TIMEOUT_TOO_SHORT), as AWS does, a queue whose visibility timeout is below the
 * function's Timeout.
 */
export function eventSourceOf(
  template: SamTemplate,
  definition: SamFunctionDefinition,
  cloud: LocalCloud,
  options: {
    readonly parameterOverrides: Readonly<Record<string, string>>;
    readonly batchSize?: number | undefined;
    readonly concurrency?: number | undefined;
    /** True when the queues' visibility timeout was replaced (up --visibility-timeout), for the message. */
    readonly visibilityTimeoutOverridden: boolean;
  },
): EventSourceSpec {
  const resolve = (raw: unknown): string | undefined =>
    resolveTemplateValue(raw, options.parameterOverrides, template, cloud.resolveResource);
  const events = Object.values(
    (definition.properties.Events ?? {}) as Record<
      string,
      { Type?: string; Properties?: Record<string, unknown> }
    >,
  );
  const source = events.find((event) => event.Type === "SQS")?.Properties;
  if (!source) {
    throw new LocalAwsError(
      "EVENT_SOURCE_MISSING",
      `${definition.logicalId} has no SQS event source in the template`,
    );
  }
  const queue = [...cloud.queues.values()].find((candidate) => candidate.arn === resolve(source.Queue));
  if (!queue) {
    throw new LocalAwsError(
      "EVENT_SOURCE_MISSING",
      `cannot find the SQS event source's queue (${JSON.stringify(source.Queue)}) among the template's queues`,
    );
  }
  refuseShortVisibilityTimeout(cloud, queue, definition, options.visibilityTimeoutOverridden);
  const scaling = (source.ScalingConfig ?? {}) as { MaximumConcurrency?: unknown };
  const settings: MappingSettings = {
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: cloud.region,
    batchSize: options.batchSize ?? Number(resolve(source.BatchSize) ?? 10),
    batchingWindowSeconds: Number(resolve(source.MaximumBatchingWindowInSeconds) ?? 0),
    maximumConcurrency: Math.max(1, options.concurrency ?? Number(resolve(scaling.MaximumConcurrency) ?? 2)),
    reportBatchItemFailures:
      Array.isArray(source.FunctionResponseTypes) &&
      source.FunctionResponseTypes.includes("ReportBatchItemFailures"),
  };
  const redrive = template.resources[queue.logicalId]?.Properties?.RedrivePolicy as
    { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
  const deadLetterQueue = [...cloud.queues.values()].find(
    (candidate) => redrive !== undefined && candidate.arn === resolve(redrive.deadLetterTargetArn),
  );
  return {
    queue,
    settings,
    deadLetterQueue,
    maxReceiveCount: Number(resolve(redrive?.maxReceiveCount) ?? 0),
  };
}

/**
 * AWS refuses an SQS event source whose queue's visibility timeout is below the function's Timeout: a
 * record would become visible again while its invocation still runs, be received again, and could reach
 * maxReceiveCount (the DLQ) while it is being processed successfully.
 */
function refuseShortVisibilityTimeout(
  cloud: LocalCloud,
  queue: LocalQueue,
  definition: SamFunctionDefinition,
  overridden: boolean,
): void {
  const visibilityTimeout = Number(cloud.server.inspectQueue(queue.name)?.attributes.VisibilityTimeout ?? 30);
  const timeout = definition.timeoutSeconds;
  if (visibilityTimeout >= timeout) return;
  const from = overridden
    ? "the override (up --visibility-timeout)"
    : `${queue.logicalId}'s VisibilityTimeout in the template`;
  throw new LocalAwsError(
    "VISIBILITY_TIMEOUT_TOO_SHORT",
    `the visibility timeout of ${queue.logicalId} (${visibilityTimeout} s, from ${from}) is below ${definition.logicalId}'s Timeout (${timeout} s): AWS refuses such an SQS event source, as a record would come back while its invocation still runs. Give at least ${timeout} s (AWS advises ${6 * timeout} s, 6x the Timeout), or use a template whose Timeout is shorter`,
  );
}
