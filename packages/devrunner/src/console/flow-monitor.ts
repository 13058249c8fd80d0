import { StringDecoder } from "node:string_decoder";
import type { BatchOutcome, BatchStart } from "../local-aws/cloud/event-source-mapping.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import { formatReport, type LogOrigin } from "../local-aws/runtime/function-worker.ts";
import { mask } from "./masking.ts";
import { prettyLogLine, summariseBody, type LogLine } from "./log-lines.ts";
import { setAsideByOriginalId, type SetAside } from "../local-aws/cloud/dead-letter-view.ts";

/** How many invocations, and log lines per invocation, the console keeps. */
const KEPT_INVOCATIONS = 50;
const KEPT_LINES = 300;

export type RecordOutcome = "running" | "ok" | "retried" | "to-dlq" | "dead-lettered";

export interface RecordView {
  readonly messageId: string;
  readonly summary: string;
  readonly receiveCount: number;
  outcome: RecordOutcome;
  /** The reason code the function gave when it set the record aside itself. */
  reasonCode?: string;
}

export interface InvocationView {
  readonly requestId: string;
  readonly environment: number;
  readonly startedAt: number;
  status: "running" | "ok" | "error" | "timeout";
  readonly records: RecordView[];
  report?: { durationMs: number; initDurationMs?: number; maxMemoryUsedMb: number; line: string };
  error?: string;
  readonly logs: LogLine[];
}

export type EnvironmentState = "cold" | "busy" | "idle";

/**
 * What the console shows of a running flow, kept in memory as it happens: the mapping's batches
 * (`invocationStarted`, `batchDone`), the function's output with the invocation that wrote it (`log`).
 * Says `changed` to its listener; the server decides when to send.
 */
export class FlowMonitor {
  private readonly invocations = new Map<string, InvocationView>();
  private readonly environments: EnvironmentState[] = [];
  /** Per invocation and stream: the unfinished line, and a decoder holding a character split across chunks. */
  private readonly partial = new Map<string, { text: string; decoder: StringDecoder }>();
  readonly otherLogs: LogLine[] = [];
  private flow: LocalFlow | undefined;
  private listener: () => void = () => undefined;
  totals = { invocations: 0, records: 0, failedRecords: 0 };

  /** The flow to inspect (its queues, its dead-letter queue), once started. */
  attach(flow: LocalFlow): void {
    this.flow = flow;
    this.environments.length = flow.settings.maximumConcurrency;
    this.environments.fill("cold");
    this.listener();
  }

  onChange(listener: () => void): void {
    this.listener = listener;
  }

  readonly invocationStarted = (start: BatchStart): void => {
    this.environments[start.poller] = "busy";
    this.invocations.set(start.requestId, {
      requestId: start.requestId,
      environment: start.poller,
      startedAt: Date.now(),
      status: "running",
      records: start.records.map((record) => ({
        messageId: record.MessageId ?? "?",
        summary: summariseBody(record.Body ?? ""),
        receiveCount: Number(record.Attributes?.ApproximateReceiveCount ?? 1),
        outcome: "running",
      })),
      logs: [],
    });
    while (this.invocations.size > KEPT_INVOCATIONS) {
      this.invocations.delete(this.invocations.keys().next().value!);
    }
    this.listener();
  };

  readonly batchDone = (outcome: BatchOutcome): void => {
    const { report } = outcome;
    this.environments[outcome.poller] = report.result.status === "timeout" ? "cold" : "idle";
    this.flushPartial(report.requestId);
    const view = this.invocations.get(report.requestId);
    this.totals.invocations += 1;
    this.totals.records += outcome.records.length;
    this.totals.failedRecords += outcome.failed.size;
    if (!view) return;
    view.status = report.result.status;
    if (report.result.status === "error")
      view.error = mask(`${report.result.error.errorType}: ${report.result.error.errorMessage}`) as string;
    view.report = {
      durationMs: report.durationMs,
      ...(report.initDurationMs !== undefined ? { initDurationMs: report.initDurationMs } : {}),
      maxMemoryUsedMb: report.maxMemoryUsedMb,
      line: formatReport(report).replace(/\t/g, "  "),
    };
    const setAside = this.deadLettersByOriginalId();
    const maxReceiveCount = this.flow?.maxReceiveCount ?? 0;
    for (const record of view.records) {
      const letter = setAside.get(record.messageId);
      if (outcome.failed.has(record.messageId))
        record.outcome = maxReceiveCount > 0 && record.receiveCount >= maxReceiveCount ? "to-dlq" : "retried";
      else if (letter) {
        record.outcome = "dead-lettered";
        if (letter.code) record.reasonCode = letter.code;
      } else record.outcome = "ok";
    }
    this.listener();
  };

  /** The function's output: split into lines, each kept with its invocation (or with the others). */
  readonly log = (chunk: Buffer, origin?: LogOrigin): void => {
    const key = `${origin?.requestId ?? ""}\n${origin?.stream ?? "stdout"}`;
    const partial = this.partial.get(key) ?? { text: "", decoder: new StringDecoder("utf8") };
    const lines = (partial.text + partial.decoder.write(chunk)).split("\n");
    partial.text = lines.pop() ?? "";
    this.partial.set(key, partial);
    for (const line of lines) this.keepLine(line, origin);
    if (lines.length > 0) this.listener();
  };

  invocation(requestId: string): InvocationView | undefined {
    return this.invocations.get(requestId);
  }

  /** Newest first, without their log lines (those come with `invocation`). */
  recentInvocations(): Omit<InvocationView, "logs">[] {
    return [...this.invocations.values()].reverse().map(({ logs, ...rest }) => ({
      ...rest,
      logLines: logs.length,
    }));
  }

  /** The receive count a message had when the console last saw it delivered (the last 50 invocations). */
  receiveCountOf(messageId: string): number | undefined {
    for (const view of this.invocations.values())
      for (const record of view.records) if (record.messageId === messageId) return record.receiveCount;
    return undefined;
  }

  environmentStates(): readonly EnvironmentState[] {
    return this.environments;
  }

  get attached(): LocalFlow | undefined {
    return this.flow;
  }

  /** The messages the function set aside itself, by the id of the message they came in. */
  private deadLettersByOriginalId(): Map<string, { code: string | undefined }> {
    const dlq = this.flow?.deadLetterQueue;
    return dlq && this.flow
      ? setAsideByOriginalId(this.flow.cloud.server, dlq.name)
      : new Map<string, SetAside>();
  }

  private flushPartial(requestId: string): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const key = `${requestId}\n${stream}`;
      const partial = this.partial.get(key);
      this.partial.delete(key);
      const rest = partial ? partial.text + partial.decoder.end() : "";
      if (rest) this.keepLine(rest, { requestId, stream });
    }
  }

  private keepLine(text: string, origin: LogOrigin | undefined): void {
    if (text.trim() === "") return;
    const line = prettyLogLine(text, origin?.stream ?? "stdout");
    const view = origin?.requestId ? this.invocations.get(origin.requestId) : undefined;
    const into = view ? view.logs : this.otherLogs;
    into.push(view ? line : { ...line, requestId: origin?.requestId });
    if (into.length > KEPT_LINES) into.splice(0, into.length - KEPT_LINES);
  }
}
