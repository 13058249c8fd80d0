// The lines Lambda writes into a function's log stream around each invocation (START, END, REPORT, and a
// timeout's), shared by the execution environment's process (worker.ts) and its parent (function-worker.ts).
// No imports: worker.ts is bundled on its own.

/** What REPORT says about one invocation. */
export interface ReportFigures {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Only on the invocation that paid for the init (a cold start). */
  readonly initDurationMs?: number | undefined;
  readonly timedOut?: boolean;
}

export function startLine(requestId: string, version = "$LATEST"): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** Lambda's REPORT line, fields in Lambda's order (Init Duration last, then the timeout's Status). */
export function reportLine(report: ReportFigures): string {
  const parts = [
    `REPORT RequestId: ${report.requestId}`,
    `Duration: ${report.durationMs.toFixed(2)} ms`,
    `Billed Duration: ${Math.ceil(report.durationMs)} ms`,
    `Memory Size: ${report.memorySizeMb} MB`,
    `Max Memory Used: ${report.maxMemoryUsedMb} MB`,
  ];
  if (report.initDurationMs !== undefined)
    parts.push(`Init Duration: ${report.initDurationMs.toFixed(2)} ms`);
  if (report.timedOut) parts.push("Status: timeout");
  return parts.join("\t");
}

/** What Lambda logs when it stops an invocation at the Timeout (the timestamp and request id first). */
export function timeoutLine(requestId: string, timeoutSeconds: number, at = new Date()): string {
  return `${at.toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** Peak resident memory in MB (from kilobytes, as `process.resourceUsage().maxRSS` and VmHWM give it). */
export function megabytes(kilobytes: number): number {
  return Math.ceil(kilobytes / 1024);
}
