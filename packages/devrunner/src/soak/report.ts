import type { SqsFaultProxyCounts } from "@entity/adapters/fault-injection";
import type { SoakCounts } from "./checks.ts";
import type { RotationFigures } from "./rotation.ts";
import type { FlowStats } from "./soak-flow.ts";

export interface SoakReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly published: number;
  readonly distinctKeys: number;
  readonly poisonKeys: number;
  readonly names: number;
  readonly unpublishableNames: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly machine: {
    cores: number;
    cpuHogProcesses: number;
    loadAverageAtStart: number;
    loadAverageMax: number;
  };
  readonly flow: {
    functionTimeoutSeconds: number;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    batches: number;
    failedRecords: number;
    timedOutInvocations: number;
    /** Invocation durations: the median, the 99th percentile and the slowest. */
    invocationMsP50: number;
    invocationMsP99: number;
    slowestInvocationMs: number;
    /** Execution environments started (the first ones, and replacements after a timeout), the slowest init. */
    coldStarts: number;
    slowestInitMs: number;
    relayRuns: number;
    mappingErrors: number;
  };
  readonly faults: RotationFigures & {
    databaseCuts: number;
    publishRefusals: number;
    transientPublishFailures: number;
  };
  readonly counts: SoakCounts;
}

/** The flow's figures: its timing settings, and what the soak counted while it ran. */
export function flowFigures(
  stats: FlowStats,
  timing: { functionTimeoutSeconds: number; visibilityTimeoutSeconds: number },
  maxReceiveCount: number,
): SoakReport["flow"] {
  return {
    ...timing,
    maxReceiveCount,
    batches: stats.batches,
    failedRecords: stats.failedRecords,
    timedOutInvocations: stats.timedOut,
    invocationMsP50: percentile(stats.durations, 0.5),
    invocationMsP99: percentile(stats.durations, 0.99),
    slowestInvocationMs: percentile(stats.durations, 1),
    coldStarts: stats.coldStarts,
    slowestInitMs: Math.round(stats.slowestInitMs),
    relayRuns: stats.relayRuns,
    mappingErrors: stats.mappingErrors,
  };
}

/** The faults injected: connections cut, the secret's rotations, the outbound queue's refusals and failures. */
export function faultFigures(
  databaseCuts: number,
  rotation: RotationFigures,
  publishFaults: SqsFaultProxyCounts,
): SoakReport["faults"] {
  return {
    databaseCuts,
    ...rotation,
    publishRefusals: publishFaults.permanentFailures,
    transientPublishFailures: publishFaults.transientFailures,
  };
}

function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!);
}

/** The report as the README quotes it. */
export function formatSoakReport(report: SoakReport): string {
  const { machine, flow, faults, counts } = report;
  return [
    `${report.ok ? "PASS" : "FAIL"}: ${report.published} messages in ${report.seconds.toFixed(1)} s (${report.messagesPerSecond.toFixed(0)} msg/s); ${machine.cores} cores, load average ${machine.loadAverageAtStart.toFixed(1)} at the start, ${machine.loadAverageMax.toFixed(1)} at most${machine.cpuHogProcesses > 0 ? `, CPU hog: ${machine.cpuHogProcesses} busy processes` : ""}`,
    `  keys: ${report.distinctKeys} distinct valid, ${report.poisonKeys} poison; ${report.names} names, ${report.unpublishableNames} unpublishable`,
    `  stored: ${counts.entities} entities, ${counts.observations} observations; ${counts.queued} messages left in the queue`,
    `  events: ${counts.events} committed; ${counts.eventsPublished} published (${counts.outboundMessages} messages, ${counts.duplicateDeliveries} of them repeats), ${counts.eventsParked} parked (${counts.unpublishableEvents} of unpublishable names), ${counts.eventsPending} pending; ${counts.flakyEvents} flaky, ${counts.eventsRecovered} published after a failed attempt`,
    `  DLQ: ${counts.deadLetteredKeys} keys in ${counts.deadLettered} messages, ${counts.validKeysDeadLettered} of them valid`,
    `  faults: ${faults.databaseCuts} database connections cut; ${faults.rotations} password rotations (${faults.userSwitches} to the other role), ${faults.sessionsTerminated} sessions terminated, ${faults.secretFetches} secret fetches; ${faults.publishRefusals} publish refusals, ${faults.transientPublishFailures} transient publish failures`,
    `  flow: Timeout ${flow.functionTimeoutSeconds} s, visibility timeout ${flow.visibilityTimeoutSeconds} s, maxReceiveCount ${flow.maxReceiveCount}; ${flow.batches} batches, ${flow.failedRecords} records retried; relay ran ${flow.relayRuns} times; ${flow.mappingErrors} mapping errors`,
    `  invocations: ${flow.invocationMsP50} ms median, ${flow.invocationMsP99} ms p99, ${flow.slowestInvocationMs} ms slowest, ${flow.timedOutInvocations} timed out; ${flow.coldStarts} cold starts, slowest init ${flow.slowestInitMs} ms`,
    ...report.problems.map((problem) => `  problem: ${problem}`),
    "",
  ].join("\n");
}
