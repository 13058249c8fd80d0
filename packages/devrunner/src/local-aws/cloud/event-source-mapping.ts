import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { createHash, randomUUID } from "node:crypto";
import type { FunctionPool } from "../runtime/function-pool.ts";
import type { InvocationReport } from "../runtime/function-worker.ts";

export interface MappingSettings {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly region: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maximumConcurrency: number;
  readonly reportBatchItemFailures: boolean;
}

/** A batch handed to the function, before its outcome (`requestId` names the invocation and its logs). */
export interface BatchStart {
  readonly poller: number;
  readonly records: readonly Message[];
  readonly requestId: string;
}

export interface BatchOutcome {
  readonly poller: number;
  readonly records: readonly Message[];
  readonly failed: ReadonlySet<string>;
  readonly report: InvocationReport;
}

/**
 * Lambda's SQS event-source mapping, locally: pollers (one per unit of MaximumConcurrency, each with its
 * own warm execution environment) long-poll the queue, gather up to BatchSize records within the batching
 * window, invoke the function, delete what succeeded and leave the rest to reappear after the visibility
 * timeout; the queue's redrive policy moves a record to its DLQ after maxReceiveCount receives.
 */
export class LocalEventSourceMapping {
  private running = false;
  /** Ends the long polls at once when stopping (records they took come back, see LocalCloud.kept). */
  private readonly polls = new AbortController();
  /** Set when `stop` kills the environments of invocations that outlived its grace. */
  private killing = false;
  private interrupted = { interruptedInvocations: 0, interruptedRecords: 0 };
  private readonly loops: Promise<void>[] = [];
  private readonly settings: MappingSettings;
  private readonly client: SQSClient;
  private readonly pool: Pick<FunctionPool, "workers" | "workerFor" | "stop">;
  private readonly onBatch: (outcome: BatchOutcome) => void;
  private readonly onError: (error: unknown) => void;
  private readonly onInvoke: (start: BatchStart) => void;

  constructor(options: {
    settings: MappingSettings;
    client: SQSClient;
    /** The function's environments: a poller takes its own before each invocation. */
    pool: Pick<FunctionPool, "workers" | "workerFor" | "stop">;
    onBatch: (outcome: BatchOutcome) => void;
    onError: (error: unknown) => void;
    onInvoke?: ((start: BatchStart) => void) | undefined;
  }) {
    this.settings = options.settings;
    this.client = options.client;
    this.pool = options.pool;
    this.onBatch = options.onBatch;
    this.onError = options.onError;
    this.onInvoke = options.onInvoke ?? (() => undefined);
  }

  start(): void {
    this.running = true;
    this.pool.workers.forEach((_, index) => this.loops.push(this.poll(index)));
  }

  /**
   * Stops polling; invocations still running after `graceMs` have their environments killed (Lambda's
   * Timeout does not wait). Their records are not deleted: they come back (see LocalCloud.kept).
   */
  async stop(graceMs: number): Promise<{ interruptedInvocations: number; interruptedRecords: number }> {
    this.running = false;
    this.polls.abort();
    const finished = Promise.allSettled(this.loops);
    let graceOver: NodeJS.Timeout | undefined;
    await Promise.race([finished, new Promise((resolve) => (graceOver = setTimeout(resolve, graceMs)))]);
    clearTimeout(graceOver);
    this.killing = true;
    this.pool.stop();
    await finished;
    return this.interrupted;
  }

  private async poll(index: number): Promise<void> {
    while (this.running) {
      try {
        const records = await this.gather();
        if (records.length === 0 || !this.running) continue;
        const requestId = randomUUID();
        this.onInvoke({ poller: index, records, requestId });
        const report = await this.pool.workerFor(index).invoke(this.toEvent(records), requestId);
        if (this.killing && report.result.status !== "ok") {
          this.interrupted.interruptedInvocations += 1;
          this.interrupted.interruptedRecords += records.length;
          continue;
        }
        const failed = this.failedIds(records, report);
        const succeeded = records.filter((record) => !failed.has(record.MessageId ?? ""));
        await this.delete(succeeded);
        this.onBatch({ poller: index, records, failed, report });
      } catch (error) {
        if (!this.running) break;
        this.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Deletes the succeeded records; one that cannot be deleted comes back (and is said so). */
  private async delete(records: readonly Message[]): Promise<void> {
    for (let start = 0; start < records.length; start += 10) {
      const answer = await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.settings.queueUrl,
          Entries: records
            .slice(start, start + 10)
            .map((record, i) => ({ Id: `d${i}`, ReceiptHandle: record.ReceiptHandle })),
        }),
      );
      const failed = answer.Failed ?? [];
      if (failed.length > 0)
        this.onError(
          new Error(
            `could not delete ${failed.length} processed record(s) (${failed.map((entry) => `${entry.Code ?? "?"}: ${entry.Message ?? ""}`).join("; ")}): they will be received again`,
          ),
        );
    }
  }

  private async gather(): Promise<Message[]> {
    const records: Message[] = [];
    const windowEnds = Date.now() + this.settings.batchingWindowSeconds * 1000;
    do {
      const received = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: Math.min(10, this.settings.batchSize - records.length),
          WaitTimeSeconds: records.length === 0 ? 1 : 0,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
        { abortSignal: this.polls.signal },
      );
      records.push(...(received.Messages ?? []));
      if (!received.Messages?.length && records.length > 0 && Date.now() < windowEnds) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } while (
      this.running &&
      records.length > 0 &&
      records.length < this.settings.batchSize &&
      Date.now() < windowEnds
    );
    return records;
  }

  /** The failed message ids, by Lambda's rules: a throw, a timeout or a malformed response fails all. */
  private failedIds(records: readonly Message[], report: InvocationReport): Set<string> {
    const all = new Set(records.map((record) => record.MessageId ?? ""));
    if (report.result.status !== "ok") return all;
    if (!this.settings.reportBatchItemFailures) return new Set();
    const response = report.result.response as { batchItemFailures?: { itemIdentifier?: unknown }[] } | null;
    if (
      response === null ||
      response === undefined ||
      (typeof response === "object" && !("batchItemFailures" in response))
    )
      return new Set();
    if (!Array.isArray(response.batchItemFailures)) return all;
    const failed = new Set<string>();
    for (const failure of response.batchItemFailures) {
      if (typeof failure.itemIdentifier !== "string" || !all.has(failure.itemIdentifier)) return all;
      failed.add(failure.itemIdentifier);
    }
    return failed;
  }

  private toEvent(records: readonly Message[]): unknown {
    return {
      Records: records.map((record) => ({
        messageId: record.MessageId,
        receiptHandle: record.ReceiptHandle,
        body: record.Body ?? "",
        attributes: { ...(record.Attributes ?? {}) },
        messageAttributes: Object.fromEntries(
          Object.entries(record.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            {
              stringValue: value.StringValue,
              binaryValue: value.BinaryValue,
              stringListValues: [],
              binaryListValues: [],
              dataType: value.DataType,
            },
          ]),
        ),
        md5OfBody:
          record.MD5OfBody ??
          createHash("md5")
            .update(record.Body ?? "")
            .digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: this.settings.queueArn,
        awsRegion: this.settings.region,
      })),
    };
  }
}
