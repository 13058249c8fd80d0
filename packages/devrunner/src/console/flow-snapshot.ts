import type { LocalQueue } from "../local-aws/cloud/local-cloud.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import { queuedMessages, type QueuedMessage } from "@entity/adapters/sqs-emulator";
import type { FlowMonitor } from "./flow-monitor.ts";
import { summariseBody } from "./log-lines.ts";
import type { DatabaseSummary } from "./database-view.ts";

const SHOWN_DEAD_LETTERS = 100;

export interface QueueCounts {
  readonly name: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export interface DeadLetterView {
  readonly messageId: string;
  readonly summary: string;
  readonly body: string;
  /** null: set aside by the function, and the original message's count is not known. */
  readonly receiveCount: number | null;
  readonly reasonCode: string | undefined;
  readonly reason: string;
  readonly sentAt: string;
}

/** Everything the console's page draws, but the log lines (sent on demand): small enough to send often. */
export function flowSnapshot(monitor: FlowMonitor, database: DatabaseSummary | undefined) {
  const flow = monitor.attached;
  if (!flow) return { ready: false as const };
  const outbound = outboundQueue(flow);
  return {
    ready: true as const,
    topic: [...flow.cloud.topics.values()][0]?.name,
    queue: queueCounts(flow, flow.queue),
    function: {
      name: flow.prepared.definition.logicalId,
      batchSize: flow.settings.batchSize,
      environments: monitor.environmentStates(),
      ...monitor.totals,
    },
    database: database ?? null,
    outbound: outbound ? queueCounts(flow, outbound) : null,
    deadLetterQueue: flow.deadLetterQueue ? queueCounts(flow, flow.deadLetterQueue) : null,
    maxReceiveCount: flow.maxReceiveCount,
    deadLetters: deadLetters(flow, monitor),
    invocations: monitor.recentInvocations(),
    otherLogLines: monitor.otherLogs.length,
  };
}

function outboundQueue(flow: LocalFlow): LocalQueue | undefined {
  const url = flow.prepared.env.OUTBOUND_QUEUE_URL;
  return [...flow.cloud.queues.values()].find((queue) => queue.url === url);
}

function queueCounts(flow: LocalFlow, queue: LocalQueue): QueueCounts {
  const inspected = flow.cloud.server.inspectQueue(queue.name);
  return {
    name: queue.name,
    visible: inspected?.messages.ready.length ?? 0,
    inFlight: inspected?.messages.inflight.length ?? 0,
    delayed: inspected?.messages.delayed.length ?? 0,
  };
}

/** The dead-letter queue's messages, read without receiving them (their receive counts stay as they are). */
function deadLetters(flow: LocalFlow, monitor: FlowMonitor): DeadLetters {
  const dlq = flow.deadLetterQueue;
  const messages = dlq ? queuedMessages(flow.cloud.server, dlq.name) : [];
  return deadLetterViews(messages, (messageId) => monitor.receiveCountOf(messageId));
}

export interface DeadLetters {
  /** How many messages the DLQ holds (the list shows at most SHOWN_DEAD_LETTERS of them). */
  readonly total: number;
  readonly shown: DeadLetterView[];
}

/**
 * The first SHOWN_DEAD_LETTERS letters and the real total. A letter the function set aside itself is
 * a new message (its own receive count says nothing): it shows the original's count when the console
 * saw it delivered, else none.
 */
export function deadLetterViews(
  messages: readonly QueuedMessage[],
  originalReceiveCount: (messageId: string) => number | undefined,
): DeadLetters {
  const shown = messages.slice(0, SHOWN_DEAD_LETTERS).map((message) => {
    const attributes = message.messageAttributes;
    const original = attributes.originalMessageId?.StringValue;
    return {
      messageId: message.messageId,
      summary: summariseBody(message.body),
      body: message.body.slice(0, 4000),
      receiveCount: original ? (originalReceiveCount(original) ?? null) : message.approximateReceiveCount,
      reasonCode: attributes.failureCode?.StringValue,
      reason: attributes.failureReason?.StringValue ?? "",
      sentAt: new Date(message.sentTimestamp).toISOString(),
    };
  });
  return { total: messages.length, shown };
}
