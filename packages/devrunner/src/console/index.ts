import { portNumber } from "../cli/args.ts";
import { UsageError } from "../cli/errors.ts";
import type { LocalFlow } from "../local-aws/flow.ts";
import type { LogSink } from "../local-aws/runtime/function-worker.ts";
import type { FlowMonitor } from "./flow-monitor.ts";
import { startConsole, type RunningConsole } from "./server.ts";

export { FlowMonitor } from "./flow-monitor.ts";
export type { RunningConsole } from "./server.ts";

/** The console's port from up's flags: undefined for the default, null for none (`--no-console`). */
export function consolePortFlag(values: {
  "console-port"?: string;
  "no-console"?: boolean;
}): number | undefined | null {
  const text = values["console-port"];
  if (values["no-console"]) {
    if (text !== undefined) throw new UsageError("--no-console and --console-port: give one or the other");
    return null;
  }
  if (text === undefined) return undefined;
  return portNumber("--console-port", text);
}

/** The function's output to the terminal, and to the console when there is one. */
export function teeLogs(terminal: (chunk: Buffer) => void, monitor: FlowMonitor | undefined): LogSink {
  if (!monitor) return terminal;
  return (chunk, origin) => {
    terminal(chunk);
    monitor.log(chunk, origin);
  };
}

/** Serves the console for a started flow; when it cannot (its port is taken), stops the flow. */
export async function openConsole(
  flow: LocalFlow,
  monitor: FlowMonitor,
  port: number | undefined,
): Promise<RunningConsole> {
  try {
    const running = await startConsole(monitor, flow, { port });
    monitor.attach(flow);
    return running;
  } catch (error) {
    await flow.stop();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE")
      throw new UsageError(`--console-port ${port}: that port on 127.0.0.1 is taken (0 picks a free one)`);
    throw error;
  }
}
