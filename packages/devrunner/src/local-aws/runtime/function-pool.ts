import {
  FunctionWorker,
  workerBootEnvironment,
  type FunctionSettings,
  type LogSink,
} from "./function-worker.ts";
import { nthInspector, type InspectorSettings } from "./inspector.ts";

/**
 * A function's warm execution environments (Lambda's concurrency): `size` workers with the same settings,
 * each serving one invocation at a time. An event-source mapping gives each of its pollers one.
 */
export class FunctionPool {
  readonly workers: readonly FunctionWorker[];

  constructor(options: {
    size: number;
    settings: FunctionSettings;
    hostEnv: Readonly<Record<string, string | undefined>>;
    logSink: LogSink;
    /** The inspector in every environment, each on its own port: `port`, `port + 1`, ... */
    inspector?: InspectorSettings | undefined;
  }) {
    const bootEnv = workerBootEnvironment(options.hostEnv);
    this.workers = Array.from({ length: options.size }, (_, index) => {
      const inspector = nthInspector(options.inspector, index);
      return new FunctionWorker({
        ...options.settings,
        logSink: options.logSink,
        bootEnv,
        ...(inspector ? { inspector } : {}),
      });
    });
  }

  /** Ends every environment (a running invocation is killed). */
  stop(): void {
    for (const worker of this.workers) worker.stop();
  }
}
