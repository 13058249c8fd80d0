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
   * New environments with these settings (a new build); each old one ends when its running invocation has
   * answered. Resolves when every old one has ended. Their processes start now; each one's init runs on its
   * first invocation, as after a deploy (all at once would make the next message wait on a busy machine).
   */
  async replace(settings: FunctionSettings): Promise<void> {
    const old = this.current;
    this.current = this.create(old.length, settings);
    for (const worker of this.current) worker.prestart();
    for (const worker of old) this.retiring.add(worker);
    await Promise.all(old.map((worker) => worker.retire().finally(() => this.retiring.delete(worker))));
  }

  /** Ends every environment, replaced ones included (a running invocation is killed). */
  stop(): void {
    for (const worker of [...this.current, ...this.retiring]) worker.stop();
  }

  private create(size: number, settings: FunctionSettings): FunctionWorker[] {
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
