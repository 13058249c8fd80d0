import {
  DomainError,
  PermanentPortError,
  PortUnavailableError,
  TransientPortError,
  UnexpectedPortError,
} from "@entity/domain";

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection.*(closed|ended)/i,
  /Client was closed/i,
];

/**
 * Sorts a pg / PGlite error into the domain's kinds, by SQLSTATE class, in this one place:
 * - 22, 23 (data): permanent, what one bad record causes;
 * - 08 (connection), 28 (authentication), 57P01-03 (server shutting down or starting), 53300 (too many
 *   connections) and network errors: the database is unavailable, so the whole batch is retried;
 * - 40001, 40P01 (serialization, deadlock), 55P03 (lock not available), 57014 (statement cancelled, e.g.
 *   at the function's deadline), 53 (insufficient resources), 58 (system): transient for the records;
 * - anything else, a missing table included, is retryable too, so a misconfiguration never sends good
 *   messages to the dead-letter queue.
 */
export function toPortError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const details = error as { code?: unknown; message?: unknown };
  const code = typeof details.code === "string" ? details.code : "";
  const message = typeof details.message === "string" ? details.message : String(error);
  if (/^(22|23)/.test(code)) {
    return new PermanentPortError(`database refused the data (SQLSTATE ${code}): ${message}`, {
      cause: error,
      code: "DB_DATA_REJECTED",
    });
  }
  if (isAuthenticationFailure(error)) {
    return new PortUnavailableError(`database refused the credentials (SQLSTATE ${code}): ${message}`, {
      cause: error,
      code: "DB_AUTH_FAILED",
    });
  }
  if (
    /^(08|57P0[123]|53300)/.test(code) ||
    NETWORK_CODES.has(code) ||
    (!code && CONNECTION_MESSAGES.some((pattern) => pattern.test(message)))
  ) {
    return new PortUnavailableError(`database unavailable${code ? ` (${code})` : ""}: ${message}`, {
      cause: error,
      code: "DB_UNAVAILABLE",
    });
  }
  if (code === "57014") {
    return new TransientPortError(`database statement cancelled: ${message}`, {
      cause: error,
      code: "DB_CANCELLED",
    });
  }
  if (/^(53|58|40001|40P01|55P03)/.test(code)) {
    return new TransientPortError(`database busy (${code}): ${message}`, { cause: error, code: "DB_BUSY" });
  }
  return new UnexpectedPortError(code ? `database error (SQLSTATE ${code}): ${message}` : message, {
    cause: error,
  });
}

/** 28P01 (wrong password) and 28000 (no such role, or pg_hba refuses it): the credentials need a refresh. */
export function isAuthenticationFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "28P01" || code === "28000";
}

/**
 * The connection died under the statement (a server restart or failover, a session terminated while the
 * function was frozen, a cut network): a new connection may well succeed. Not a refusal to connect.
 */
export function isConnectionLost(error: unknown): boolean {
  const details = error as { code?: unknown; message?: unknown } | null;
  const code = typeof details?.code === "string" ? details.code : "";
  const message = typeof details?.message === "string" ? details.message : "";
  return (
    /^(08006|08003|57P01|57P02)$/.test(code) ||
    code === "ECONNRESET" ||
    code === "EPIPE" ||
    (!code && /connection terminated|Client was closed|not queryable/i.test(message))
  );
}

/**
 * A unit of work that lost a race with a concurrent one and can simply run again: a unique violation (only
 * concurrent writers of the same key or name cause one here), a deadlock or serialization failure, or a
 * name another batch created first.
 */
export function isWriteConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "40P01" || code === "40001" || code === "NAME_CREATED_CONCURRENTLY";
}
