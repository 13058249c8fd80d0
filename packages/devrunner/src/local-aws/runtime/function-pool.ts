import {
  FunctionWorker,
  workerBootEnvironment,
  type FunctionSettings,
  type LogSink,
} from "./function-worker.ts";
import { nthInspector, type InspectorSettings } from "./inspector.ts";

/**
 * A function's warm execution environments (Lambda's concurrency): `size` workers with the same settings,
 * each serving one invocation at a time. An event-source mapping gives each of its pollers one (asked for
 * before each invocation: `replace` swaps them).
 */
export class FunctionPool {
  private current: FunctionWorker[];
  /** Replaced environments still finishing an invocation. */
  private readonly retiring = new Set<FunctionWorker>();
  /** The next build's environments, started before it is ready (see `prepare`). */
  private spare: FunctionWorker[] | undefined;
  private stopped = false;
  private readonly logSink: LogSink;
  private readonly bootEnv: Record<string, string>;
  private readonly inspector: InspectorSettings | undefined;

  constructor(options: {
    size: number;
    settings: FunctionSettings;
    hostEnv: Readonly<Record<string, string | undefined>>;
    logSink: LogSink;
    /** The inspector in every environment, each on its own port: `port`, `port + 1`, ... */
    inspector?: InspectorSettings | undefined;
  }) {
    this.logSink = options.logSink;
    this.bootEnv = workerBootEnvironment(options.hostEnv);
    this.inspector = options.inspector;
    this.current = this.create(options.size, options.settings);
  }

  get workers(): readonly FunctionWorker[] {
    return this.current;
  }

  /**
   * The environment poller `index` invokes next: its own when that is warm and idle; else, while the
   * environments of a new build warm one after another, one that is warm and idle; else an idle one (its
   * own unless another poller took it). Never one serving an invocation: there are as many as pollers.
   */
  workerFor(index: number): FunctionWorker {
    const own = this.current[index]!;
    if (own.warmAndIdle) return own;
    return (
      this.current.find((worker) => worker.warmAndIdle) ??
      (own.busy ? this.current.find((worker) => !worker.busy) : undefined) ??
      own
    );
  }

  /**
   * Starts the first of the next environments' processes now, before its settings are known (a rebuild
   * has begun): Node's start-up overlaps the build. Only the first: more would take the build's CPU on a
   * busy machine; the others start in turn after it. The next `replace` uses them.
   */
  prepare(): void {
    this.spare ??= this.create(this.current.length);
    this.spare[0]?.prestart();
  }

  /**
   * New environments with these settings (a new build); each old one ends when its running invocation has
   * answered (`retired`). The new ones' init runs at once, one environment after another (all at once
   * would slow the first on a busy machine), so the next message finds one warm (`firstWarm`).
   */
  replace(settings: FunctionSettings): { retired: Promise<void>; firstWarm: Promise<void> } {
    const old = this.current;
    const next = this.spare ?? this.create(old.length);
    this.spare = undefined;
    for (const worker of next) worker.configure(settings);
    this.current = next;
    void this.warmInTurn(next);
    for (const worker of old) this.retiring.add(worker);
    const retired = Promise.all(
      old.map((worker) => worker.retire().finally(() => this.retiring.delete(worker))),
    ).then(() => undefined);
    // The first one's init began in warmInTurn: this waits for the same init.
    const firstWarm = next[0] ? next[0].warm().catch(() => undefined) : Promise.resolve();
    return { retired, firstWarm };
  }

  /** Ends every environment, replaced ones included (a running invocation is killed). */
  stop(): void {
    this.stopped = true;
    for (const worker of [...this.current, ...this.retiring, ...(this.spare ?? [])]) worker.stop();
    this.spare = undefined;
  }

  /** Inits each environment in turn; stops when a newer build has replaced them. */
  private async warmInTurn(workers: readonly FunctionWorker[]): Promise<void> {
    for (const worker of workers) {
      if (this.current !== workers || this.stopped) return;
      // A failed init is the next invocation's to report (as a cold start's would be).
      await worker.warm().catch(() => undefined);
    }
  }

  private create(size: number, settings?: FunctionSettings): FunctionWorker[] {
    // After a hot reload the new environments ask for the same inspector ports: one whose port an old
    // environment still holds runs without a debugger, and says so.
    return Array.from({ length: size }, (_, index) => {
      const inspector = nthInspector(this.inspector, index);
      return new FunctionWorker({
        ...settings,
        logSink: this.logSink,
        bootEnv: this.bootEnv,
        ...(inspector ? { inspector } : {}),
      });
    });
  }
}
