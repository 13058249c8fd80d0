import { openSync, writeSync } from "node:fs";
import type { PreparedFunction } from "../local-aws/prepare.ts";
import type { InvocationReport } from "../local-aws/runtime/function-worker.ts";
import { UsageError } from "./errors.ts";
import type { Output } from "./output.ts";
import { userPath } from "./paths.ts";

/**
 * Prints an invocation as `sam local invoke` does: the response on stdout (the function's logs, with
 * Lambda's START, END and REPORT lines, went to the log sink as they happened); the exit code. A timeout
 * is SAM's: an empty stdout, `Function '<id>' timed out after N seconds` and exit 0 (the log stream also
 * has Lambda's own timeout line and a REPORT with `Status: timeout`, which SAM does not print).
 */
export function printInvocation(
  report: InvocationReport,
  prepared: PreparedFunction,
  output: Output,
): number {
  const { result } = report;
  const { logicalId, timeoutSeconds } = prepared.definition;
  if (result.status === "timeout") {
    output.note(`Function '${logicalId}' timed out after ${timeoutSeconds} seconds`);
    output.result({ status: result.status, response: null, report });
    return 0;
  }
  const response = result.status === "ok" ? result.response : result.error;
  output.line(JSON.stringify(response));
  output.result({ status: result.status, response, report });
  return result.status === "ok" ? 0 : 1;
}

/** The functions' own output (their logs) goes to stderr, as SAM prints it. */
export function functionLogs(chunk: Buffer): void {
  process.stderr.write(chunk);
}

/** -l/--log-file: the function's logs appended to that file (opened now, so a bad path is bad usage). */
export function logFileSink(path: string): (chunk: Buffer) => void {
  let fd: number;
  try {
    fd = openSync(userPath(path), "a");
  } catch (error) {
    throw new UsageError(`cannot open the log file '${path}': ${(error as Error).message}`);
  }
  return (chunk) => void writeSync(fd, chunk);
}
