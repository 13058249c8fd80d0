import {
  createCustomResources,
  prepareFunction,
  type PreparedFunction,
  type PrepareOptions,
} from "./prepare.ts";
import { FunctionWorker, workerBootEnvironment, type InvocationReport } from "./runtime/function-worker.ts";
import { assertInspectorPortsFree, type InspectorEvent } from "./runtime/inspector.ts";
import { workerSettings } from "./runtime/runtime-environment.ts";

export interface InvokeOptions extends Omit<PrepareOptions, "functionWorker" | "cloud"> {
  readonly event: unknown;
  /** Where the function's own output (its logs) goes. */
  readonly logSink: (chunk: Buffer) => void;
  /**
   * `sam local invoke -d PORT`: the execution environment opens the Node inspector on 127.0.0.1:PORT and
   * waits for a debugger before its init; the Timeout is not enforced while debugging.
   */
  readonly debugger?: { readonly port: number; readonly onListening: (event: InspectorEvent) => void };
}

/** What one invocation did, and the function it ran (its Timeout, for messages). */
export interface Invocation {
  readonly report: InvocationReport;
  readonly prepared: PreparedFunction;
}

/**
 * `sam local invoke`: one invocation of the built function on an event, in a fresh execution environment,
 * after the custom resources it depends on (the schema migration). Everything it started is stopped when
 * it returns.
 */
export async function invokeFunction(options: InvokeOptions): Promise<Invocation> {
  const debug = options.debugger;
  if (debug) await assertInspectorPortsFree([debug.port]);
  // The execution environment's process starts while the function is prepared (build check, emulator,
  // embedded database): its Node start-up is off the critical path.
  const worker = new FunctionWorker({
    logSink: options.logSink,
    bootEnv: workerBootEnvironment(options.config.hostEnv),
    ...(debug
      ? { inspector: { port: debug.port, waitForDebugger: true, onListening: debug.onListening } }
      : {}),
  });
  worker.prestart();
  try {
    // Its init (no I/O) starts once the environment is known, overlapping the embedded database's start
    // and the schema migration the function depends on.
    // The devrunner's migration list is the bundle's here (both built from the sources of this moment):
    // when the database already has every migration, the migration's environment is never started.
    const prepared = await prepareFunction({ ...options, functionWorker: worker, checkSchemaFirst: true });
    try {
      await createCustomResources(prepared, { ...options, checkSchemaFirst: true });
      return { report: await invokePrepared(prepared, options.event, options.logSink, worker), prepared };
    } finally {
      await prepared.close();
    }
  } finally {
    worker.stop();
  }
}

/** One invocation in a fresh execution environment (or in `worker`, when one was prestarted). */
export async function invokePrepared(
  prepared: PreparedFunction,
  event: unknown,
  logSink: (chunk: Buffer) => void,
  worker?: FunctionWorker,
): Promise<InvocationReport> {
  const environment = worker ?? new FunctionWorker({ logSink });
  environment.configure(workerSettings(prepared.definition, prepared.env));
  try {
    return await environment.invoke(event);
  } finally {
    environment.stop();
  }
}
