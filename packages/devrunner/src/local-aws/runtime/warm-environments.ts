import { FunctionWorker, type FunctionSettings, type InvocationReport } from "./function-worker.ts";

/** What one invocation did, with the function's output while it ran (for `X-Amz-Log-Type: Tail`). */
export interface CapturedInvocation {
  readonly report: InvocationReport;
  /** The function's output during this invocation, between Lambda's START line and its END and REPORT. */
  readonly logs: string;
}

/**
 * A function's execution environments created on demand, as Lambda scales a function invoked directly:
 * an invocation takes a warm idle environment, or starts a new one while fewer than `limit` exist, or
 * waits for one to be free. Environments stay warm until `stop`.
 */
export class WarmEnvironments {
  private readonly idle: Environment[] = [];
  private readonly all: Environment[] = [];
  private readonly waiting: ((environment: Environment) => void)[] = [];
  private readonly options: {
    readonly settings: FunctionSettings;
    readonly bootEnv: Readonly<Record<string, string>>;
    readonly logSink: (chunk: Buffer) => void;
    readonly limit: number;
  };

  constructor(options: WarmEnvironments["options"]) {
    this.options = options;
  }

  async invoke(event: unknown): Promise<CapturedInvocation> {
    const environment = await this.acquire();
    try {
      environment.logs = [];
      const report = await environment.worker.invoke(event);
      // START, END and REPORT are in the output already, as in Lambda's log tail.
      return { report, logs: Buffer.concat(environment.logs).toString() };
    } finally {
      environment.logs = undefined;
      this.release(environment);
    }
  }

  /** Starts one environment's init now, so the first invocation finds it warm (SAM's --warm-containers EAGER). */
  prewarm(): void {
    const environment = this.create();
    environment.worker.initialize();
    this.idle.push(environment);
  }

  /** Ends every environment (a running invocation is killed). */
  stop(): void {
    for (const environment of this.all) environment.worker.stop();
  }

  private acquire(): Promise<Environment> {
    const idle = this.idle.pop();
    if (idle) return Promise.resolve(idle);
    if (this.all.length < this.options.limit) return Promise.resolve(this.create());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(environment: Environment): void {
    const next = this.waiting.shift();
    if (next) next(environment);
    else this.idle.push(environment);
  }

  private create(): Environment {
    const environment: Environment = {
      logs: undefined,
      worker: new FunctionWorker({
        ...this.options.settings,
        bootEnv: this.options.bootEnv,
        logSink: (chunk) => {
          environment.logs?.push(chunk);
          this.options.logSink(chunk);
        },
      }),
    };
    this.all.push(environment);
    return environment;
  }
}

interface Environment {
  readonly worker: FunctionWorker;
  /** The output of the invocation running now; undefined between invocations. */
  logs: Buffer[] | undefined;
}
