// The Node inspector in an execution environment (`invoke -d PORT`, `up --inspect[=PORT]`): where it
// listens, whether the environment waits for a debugger before its init, and what it tells the caller.
import { createServer } from "node:net";
import { LocalAwsError } from "../errors.ts";

/** Only this machine: an open inspector runs any code it is sent. */
export const INSPECTOR_HOST = "127.0.0.1";

/**
 * While a debugger is attached, a breakpoint may hold an invocation for minutes: the Timeout is not
 * enforced (as SAM does when debugging) and the context's remaining time starts at this, so the handler's
 * own deadline (which cuts a batch short near the Timeout) does not fire after a pause.
 */
export const DEBUGGING_TIME_BUDGET_MS = 60 * 60 * 1000;

/** What an environment's inspector did when the environment started. */
export interface InspectorEvent {
  readonly port: number;
  /** The DevTools WebSocket URL; undefined when the port could not be opened (in use). */
  readonly url: string | undefined;
  /** True when the environment now waits for a debugger before its init (`invoke -d`). */
  readonly waiting: boolean;
}

export interface InspectorSettings {
  readonly port: number;
  /** Wait for a debugger (its Runtime.runIfWaitingForDebugger) before the init phase, as `sam local invoke -d`. */
  readonly waitForDebugger: boolean;
  readonly onListening?: (event: InspectorEvent) => void;
}

/** Inspector settings for the n-th environment of a pool: each its own port, counting up from `port`. */
export function nthInspector(
  settings: InspectorSettings | undefined,
  n: number,
): InspectorSettings | undefined {
  return settings && { ...settings, port: settings.port + n };
}

/**
 * Fails with DEBUG_PORT_IN_USE when one of the ports is taken (another debug session, a running `up`),
 * before anything is started: the environment itself would only find out later, in its own output.
 */
export async function assertInspectorPortsFree(ports: readonly number[]): Promise<void> {
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new LocalAwsError("DEBUG_PORT_INVALID", `debug port ${port} is not a port number (1-65535)`);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once("error", () => resolve(false));
      probe.listen(port, INSPECTOR_HOST, () => probe.close(() => resolve(true)));
    });
    if (!free)
      throw new LocalAwsError(
        "DEBUG_PORT_IN_USE",
        `debug port ${INSPECTOR_HOST}:${port} is in use (another debug session or devrunner?): pick another one`,
      );
  }
}
