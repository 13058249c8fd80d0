import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { endLine, megabytes, reportLine, startLine, timeoutLine } from "./log-lines.ts";
import { InvocationLogSplitter } from "./invocation-logs.ts";
import { DEBUGGING_TIME_BUDGET_MS, type InspectorSettings } from "./inspector.ts";

export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: readonly string[];
}

export type InvocationResult =
  | { readonly status: "ok"; readonly response: unknown }
  | { readonly status: "error"; readonly error: LambdaErrorPayload }
  | { readonly status: "timeout" };

export interface InvocationReport {
  readonly requestId: string;
  readonly result: InvocationResult;
  readonly durationMs: number;
  /** Set on the invocation that paid for the init (a cold start). */
  readonly initDurationMs: number | undefined;
  readonly maxMemoryUsedMb: number;
  readonly memorySizeMb: number;
}

type WorkerMessage =
  | { type: "inspector"; port: number; url: string | undefined }
  | { type: "ready"; initDurationMs: number; maxRssKb: number }
  | { type: "init-error"; initDurationMs: number; error: LambdaErrorPayload }
  | { type: "result"; requestId: string; response: unknown; durationMs: number; maxRssKb: number }
  | { type: "error"; requestId: string; error: LambdaErrorPayload; durationMs: number; maxRssKb: number };

// Next to this module when running from the sources; next to the bundle (worker.mjs) when bundled.
const WORKER =
  [join(import.meta.dirname, "worker.ts"), join(import.meta.dirname, "worker.mjs")].find((path) =>
    existsSync(path),
  ) ?? join(import.meta.dirname, "worker.ts");

export interface FunctionSettings {
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
}

/** Which invocation of which environment wrote a piece of the function's output. */
export interface LogOrigin {
  /** Undefined outside an invocation (the init phase, a timer of the function's). */
  readonly requestId: string | undefined;
  readonly stream: "stdout" | "stderr";
}

/** Where the function's own output (its logs) goes, with which invocation wrote it. */
export type LogSink = (chunk: Buffer, origin?: LogOrigin) => void;

/** After its result, how long an invocation waits for its last log lines (its end markers). */
const LOG_END_WAIT_MS = 2000;

export interface FunctionWorkerOptions extends Partial<FunctionSettings> {
  /** Where the function's own output (its logs) goes. */
  readonly logSink: LogSink;
  /**
   * The process's environment until the function's arrives (see `workerBootEnvironment`): Node needs none,
   * NODE_COMPILE_CACHE makes its start faster.
   */
  readonly bootEnv?: Readonly<Record<string, string>>;
  /** The Node inspector on a port (a debugger attaches there); the Timeout is then not enforced. */
  readonly inspector?: InspectorSettings;
}

/** What a worker process starts with, from the devrunner's environment: PATH, HOME, NODE_COMPILE_CACHE. */
export function workerBootEnvironment(
  hostEnv: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const boot: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "NODE_COMPILE_CACHE"]) {
    const value = hostEnv[name];
    if (value) boot[name] = value;
  }
  return boot;
}

/**
 * One execution environment of the built function: a child process that stays warm between invocations,
 * like Lambda's. Killed at the function's Timeout (and then replaced on the next invoke), unless a debugger
 * may be holding it at a breakpoint (`inspector`).
 */
export class FunctionWorker {
  private child: ChildProcess | undefined;
  private ready: Promise<{ initDurationMs: number; error?: LambdaErrorPayload }> | undefined;
  private initToReport: number | undefined;
  private readonly options: FunctionWorkerOptions;
  private settings: FunctionSettings | undefined;
  private forked: ChildProcess | undefined;
  /** The environment's peak memory as last reported (at init, after each invocation), in kilobytes. */
  private lastMaxRssKb = 0;
  /** Invocations whose end marker has not come through on both streams yet. */
  private readonly logEnds = new Map<string, { streams: number; done: () => void }>();
  private running: Promise<InvocationReport> | undefined;
  /** Its init has ended well: an invocation starts at once. */
  private initialized = false;

  /** Settings now, or later with `configure` (after `prestart`). */
  constructor(options: FunctionWorkerOptions) {
    this.options = options;
    const { env, timeoutMs, memorySizeMb } = options;
    if (env && timeoutMs !== undefined && memorySizeMb !== undefined)
      this.settings = { env, timeoutMs, memorySizeMb };
  }

  /** Starts the process now, before the environment is known: Node's start-up overlaps the caller's set-up. */
  prestart(): void {
    this.forked ??= this.fork();
  }

  configure(settings: FunctionSettings): void {
    this.settings = settings;
  }

  /** Runs the init phase now (after `configure`), so it overlaps the caller's work before the first invoke. */
  initialize(): void {
    void this.start();
  }

  /** Warm (init done) and serving no invocation. */
  get warmAndIdle(): boolean {
    return this.initialized && this.running === undefined;
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Runs the init phase now (after `configure`) and resolves when it has ended, well or not. */
  async warm(): Promise<void> {
    await this.start();
  }

  async invoke(event: unknown, requestId: string = randomUUID()): Promise<InvocationReport> {
    const running = this.run(event, requestId);
    this.running = running;
    try {
      return await running;
    } finally {
      if (this.running === running) this.running = undefined;
    }
  }

  /** Ends this environment once its running invocation (if any) has answered (a hot reload replaced it). */
  async retire(): Promise<void> {
    await this.running;
    this.stop();
  }

  private async run(event: unknown, requestId: string): Promise<InvocationReport> {
    const started = performance.now();
    const init = await this.start();
    if (init.error) {
      this.stop();
      const durationMs = performance.now() - started;
      this.logLines(
        requestId,
        startLine(requestId),
        endLine(requestId),
        this.reportText(requestId, durationMs),
      );
      return this.report(requestId, { status: "error", error: init.error }, durationMs, this.lastMaxRssKb);
    }
    const child = this.child!;
    const timeoutMs = this.settings!.timeoutMs;
    const debugging = this.options.inspector !== undefined;
    const deadline = Date.now() + (debugging ? DEBUGGING_TIME_BUDGET_MS : timeoutMs);
    const logsEnded = this.logsEnded(requestId);
    const outcome = await new Promise<WorkerMessage | "timeout" | "exit">((resolve) => {
      const timer = debugging ? undefined : setTimeout(() => resolve("timeout"), timeoutMs);
      const onMessage = (message: WorkerMessage): void => {
        if ((message.type === "result" || message.type === "error") && message.requestId === requestId)
          done(message);
      };
      const onExit = (): void => done("exit");
      const done = (value: WorkerMessage | "timeout" | "exit"): void => {
        clearTimeout(timer);
        child.off("message", onMessage);
        child.off("exit", onExit);
        resolve(value);
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.send({ type: "invoke", requestId, event, deadline });
    });
    // The result can overtake the last lines on the pipes; a function that closed its stdout must not
    // hang the invocation, hence the limit.
    if (outcome !== "timeout" && outcome !== "exit") await settledWithin(logsEnded, LOG_END_WAIT_MS);
    this.logEnds.delete(requestId);
    if (outcome === "timeout") {
      // Its peak memory before it is killed (Linux; else what it last reported): a timeout's REPORT says it too.
      const maxRssKb = Math.max(peakMemoryKb(child.pid), this.lastMaxRssKb);
      await this.kill(child);
      this.logLines(
        requestId,
        timeoutLine(requestId, timeoutMs / 1000),
        endLine(requestId),
        this.reportText(requestId, timeoutMs, maxRssKb, true),
      );
      return this.report(requestId, { status: "timeout" }, timeoutMs, maxRssKb);
    }
    if (outcome === "exit") {
      await this.kill(child);
      const durationMs = performance.now() - started;
      const error = {
        errorType: "Runtime.ExitError",
        errorMessage: "the function's process exited before it answered",
        trace: [],
      };
      this.logLines(
        requestId,
        `RequestId: ${requestId} Error: Runtime exited before it answered`,
        error.errorType,
        endLine(requestId),
        this.reportText(requestId, durationMs),
      );
      return this.report(requestId, { status: "error", error }, durationMs, this.lastMaxRssKb);
    }
    if (outcome.type === "result" || outcome.type === "error") this.lastMaxRssKb = outcome.maxRssKb;
    if (outcome.type === "result")
      return this.report(
        requestId,
        { status: "ok", response: outcome.response },
        outcome.durationMs,
        outcome.maxRssKb,
      );
    if (outcome.type === "error")
      return this.report(
        requestId,
        { status: "error", error: outcome.error },
        outcome.durationMs,
        outcome.maxRssKb,
      );
    throw new Error("unexpected worker message");
  }

  stop(): void {
    this.initialized = false;
    this.forked?.kill("SIGKILL");
    this.forked = undefined;
    this.child?.kill("SIGKILL");
    this.child = undefined;
    this.ready = undefined;
  }

  /** Stops the environment and waits (briefly) until its output has all arrived, so lines after it stay after it. */
  private async kill(child: ChildProcess): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once("close", () => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.stop();
    await closed;
  }

  /** Lambda's own lines in the function's log stream (the timeout's, END, REPORT) when the process cannot write them. */
  private logLines(requestId: string, ...lines: string[]): void {
    this.options.logSink(Buffer.from(lines.map((line) => `${line}\n`).join("")), {
      requestId,
      stream: "stdout",
    });
  }

  private reportText(requestId: string, durationMs: number, maxRssKb = this.lastMaxRssKb, timedOut = false) {
    return reportLine({
      requestId,
      durationMs,
      memorySizeMb: this.settings?.memorySizeMb ?? 0,
      maxMemoryUsedMb: megabytes(maxRssKb),
      initDurationMs: this.initToReport,
      timedOut,
    });
  }

  private fork(): ChildProcess {
    // Only what Node needs to start; the function's environment follows in the "configure" message.
    return fork(WORKER, [], {
      env: { ...this.options.bootEnv },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "advanced",
    });
  }

  private start(): Promise<{ initDurationMs: number; error?: LambdaErrorPayload }> {
    if (this.ready) return this.ready;
    if (!this.settings) throw new Error("FunctionWorker: configure() the function before invoking it");
    const child = this.forked ?? this.fork();
    this.forked = undefined;
    const { inspector } = this.options;
    child.send({
      type: "configure",
      env: { ...this.settings.env },
      ...(inspector ? { inspector: { port: inspector.port, wait: inspector.waitForDebugger } } : {}),
    });
    this.readLogs(child);
    this.child = child;
    this.ready = new Promise((resolve) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === "inspector")
          inspector?.onListening?.({
            port: message.port,
            url: message.url,
            waiting: inspector.waitForDebugger && message.url !== undefined,
          });
        if (message.type !== "ready" && message.type !== "init-error") return;
        child.off("message", onMessage);
        this.initToReport = message.initDurationMs;
        if (message.type === "ready") {
          this.lastMaxRssKb = message.maxRssKb;
          if (this.child === child) this.initialized = true;
        }
        resolve(
          message.type === "ready"
            ? { initDurationMs: message.initDurationMs }
            : { initDurationMs: message.initDurationMs, error: message.error },
        );
      };
      child.on("message", onMessage);
      child.once("exit", (code) =>
        resolve({
          initDurationMs: 0,
          error: {
            errorType: "Runtime.ExitError",
            errorMessage: `the function's process exited during init (code ${code})`,
            trace: [],
          },
        }),
      );
    });
    return this.ready;
  }

  /** The function's output, each piece with the invocation that wrote it (see invocation-logs.ts). */
  private readLogs(child: ChildProcess): void {
    for (const stream of ["stdout", "stderr"] as const) {
      const splitter = new InvocationLogSplitter(
        (text, requestId) => this.options.logSink(text, { requestId, stream }),
        (requestId) => this.logEndSeen(requestId),
      );
      child[stream]?.on("data", (chunk: Buffer) => splitter.push(chunk));
      child[stream]?.on("end", () => {
        splitter.flush();
        for (const { done } of this.logEnds.values()) done();
      });
    }
  }

  /** Resolves when the invocation's end marker has come through on both streams (or they ended). */
  private logsEnded(requestId: string): Promise<void> {
    return new Promise((resolve) => this.logEnds.set(requestId, { streams: 2, done: resolve }));
  }

  private logEndSeen(requestId: string): void {
    const waiting = this.logEnds.get(requestId);
    if (!waiting) return;
    waiting.streams -= 1;
    if (waiting.streams === 0) waiting.done();
  }

  private report(
    requestId: string,
    result: InvocationResult,
    durationMs: number,
    maxRssKb: number,
  ): InvocationReport {
    const initDurationMs = this.initToReport;
    this.initToReport = undefined;
    return {
      requestId,
      result,
      durationMs,
      initDurationMs,
      maxMemoryUsedMb: megabytes(maxRssKb),
      memorySizeMb: this.settings?.memorySizeMb ?? 0,
    };
  }
}

function settledWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** Lambda's REPORT line for an invocation (as the function's log stream has it). */
export function formatReport(report: InvocationReport): string {
  return reportLine({ ...report, timedOut: report.result.status === "timeout" });
}

/** A process's peak resident memory (VmHWM) in kilobytes, where /proc tells it (Linux); else 0. */
function peakMemoryKb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}
