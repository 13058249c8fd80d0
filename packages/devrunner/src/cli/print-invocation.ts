import type { PreparedFunction } from "../local-aws/prepare.ts";
import { formatReport, type InvocationReport } from "../local-aws/runtime/function-worker.ts";
import type { Output } from "./output.ts";

/**
 * Prints an invocation as `sam local invoke` does: the response on stdout, the REPORT line (and a
 * timeout's line) on stderr; the exit code.
 */
export function printInvocation(
  report: InvocationReport,
  prepared: PreparedFunction,
  output: Output,
): number {
  const { result } = report;
  const timeout = `Task timed out after ${prepared.definition.timeoutSeconds.toFixed(2)} seconds`;
  if (result.status === "timeout") output.note(`${new Date().toISOString()} ${report.requestId} ${timeout}`);
  output.note(formatReport(report));
  const response =
    result.status === "ok"
      ? result.response
      : result.status === "error"
        ? result.error
        : { errorType: "Sandbox.Timedout", errorMessage: timeout };
  output.line(JSON.stringify(response));
  output.result({ status: result.status, response, report });
  return result.status === "ok" ? 0 : 1;
}

/** The functions' own output (their logs) goes to stderr, as SAM prints it. */
export function functionLogs(chunk: Buffer): void {
  process.stderr.write(chunk);
}
