import type { DatabaseConnectionSettings, SessionLimits } from "@entity/adapters";

/**
 * The function's Timeout, as its invocations report it. Lambda does not put the Timeout in the environment,
 * but every invocation starts with (about) that much time left, and the database pool is made during the
 * first one, so the limits below are known by the time a connection needs them.
 */
export class FunctionTimeout {
  private longestMs: number | undefined;

  /** Called at the start of each invocation with the time it was given. */
  observe(remainingMs: number): void {
    // Whole seconds, as the Timeout is set: 29,993 ms left at the start means a 30 s Timeout.
    const timeout = Math.ceil(remainingMs / 1000) * 1000;
    this.longestMs = Math.max(this.longestMs ?? 0, timeout);
  }

  get ms(): number | undefined {
    return this.longestMs;
  }
}

/**
 * Server-side limits for the function's connections, so no statement, lock wait or open transaction
 * outlives an invocation even when the process is frozen or killed mid-way: statements and transactions
 * idle inside a transaction end after the Timeout, lock waits after half of it (they then fail as a
 * retryable error while there is still time to report it). DB_STATEMENT_TIMEOUT_MS, DB_LOCK_TIMEOUT_MS and
 * DB_IDLE_IN_TRANSACTION_TIMEOUT_MS override them.
 */
export function functionSessionLimits(
  settings: DatabaseConnectionSettings,
  timeoutMs: number | undefined,
): SessionLimits {
  const overrides = settings.sessionLimitOverrides;
  const derived = (share: number): number | undefined =>
    timeoutMs === undefined ? undefined : Math.max(1000, Math.round(timeoutMs * share));
  const statementTimeoutMs = overrides.statementTimeoutMs ?? derived(1);
  const lockTimeoutMs = overrides.lockTimeoutMs ?? derived(0.5);
  const idleInTransactionTimeoutMs = overrides.idleInTransactionTimeoutMs ?? derived(1);
  return {
    ...(statementTimeoutMs ? { statementTimeoutMs } : {}),
    ...(lockTimeoutMs ? { lockTimeoutMs } : {}),
    ...(idleInTransactionTimeoutMs ? { idleInTransactionTimeoutMs } : {}),
  };
}
