import { fork, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";

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
  | { type: "ready"; initDurationMs: number }
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

export interface FunctionWorkerOptions extends Partial<FunctionSettings> {
  /** Where the function's own output (its logs) goes. */
  readonly logSink: (chunk: Buffer) => void;
  /**
   * The process's environment until the function's arrives (see `workerBootEnvironment`): Node needs none,
   * NODE_COMPILE_CACHE makes its start faster.
   */
  readonly bootEnv?: Readonly<Record<string, string>>;
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
 * like Lambda's. Killed at the function's Timeout (and then replaced on the next invoke).
 */
export class FunctionWorker {
  private child: ChildProcess | undefined;
  private ready: Promise<{ initDurationMs: number; error?: LambdaErrorPayload }> | undefined;
  private initToReport: number | undefined;
  private readonly options: FunctionWorkerOptions;
  private settings: FunctionSettings | undefined;
  private forked: ChildProcess | undefined;
  private running: Promise<InvocationReport> | undefined;

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

  async invoke(event: unknown): Promise<InvocationReport> {
    const running = this.run(event);
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

  private async run(event: unknown): Promise<InvocationReport> {
    const requestId = randomUUID();
    const started = performance.now();
    const init = await this.start();
    if (init.error) {
      this.stop();
      return this.report(requestId, { status: "error", error: init.error }, performance.now() - started, 0);
    }
    const child = this.child!;
    const deadline = Date.now() + this.settings!.timeoutMs;
    const outcome = await new Promise<WorkerMessage | "timeout" | "exit">((resolve) => {
      const timer = setTimeout(() => resolve("timeout"), this.settings!.timeoutMs);
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
    if (outcome === "timeout") {
      this.stop();
      return this.report(requestId, { status: "timeout" }, this.settings!.timeoutMs, 0);
    }
    if (outcome === "exit") {
      this.stop();
      const error = {
        errorType: "Runtime.ExitError",
        errorMessage: "the function's process exited before it answered",
        trace: [],
      };
      return this.report(requestId, { status: "error", error }, performance.now() - started, 0);
    }
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
    this.forked?.kill("SIGKILL");
    this.forked = undefined;
    this.child?.kill("SIGKILL");
    this.child = undefined;
    this.ready = undefined;
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
    child.send({ type: "configure", env: { ...this.settings.env } });
    child.stdout?.on("data", this.options.logSink);
    child.stderr?.on("data", this.options.logSink);
    this.child = child;
    this.ready = new Promise((resolve) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type !== "ready" && message.type !== "init-error") return;
        child.off("message", onMessage);
        this.initToReport = message.initDurationMs;
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
      maxMemoryUsedMb: Math.ceil(maxRssKb / 1024),
      memorySizeMb: this.settings?.memorySizeMb ?? 0,
    };
  }
}

/** Lambda's REPORT line. */
export function formatReport(report: InvocationReport): string {
  const parts = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.ceil(report.durationMs)} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    `Max Memory Used: ${report.maxMemoryUsedMb} MB`,
  ];
  if (report.initDurationMs !== undefined)
    parts.push(`Init Duration: ${report.initDurationMs.toFixed(2)} ms`);
  if (report.result.status === "timeout") parts.push("Status: timeout");
  return parts.join("\t");
}
