import { DomainError, PermanentPortError, TransientPortError, UnexpectedPortError } from "@entity/domain";

const TRANSIENT_NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection.*(closed|ended)/i,
  /Client was closed/i,
];

/**
 * Sorts a pg / PGlite error into the domain's kinds. Only data errors (SQLSTATE classes 22 and 23) are
 * permanent: they are what one bad record causes. Everything else, a missing table included, is
 * retryable, so a misconfiguration never sends good messages to the dead-letter queue.
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
  if (/^(08|53|57P|40001|40P01|55P03|58)/.test(code) || TRANSIENT_NETWORK_CODES.has(code)) {
    return new TransientPortError(`database unavailable (${code}): ${message}`, {
      cause: error,
      code: "DB_UNAVAILABLE",
    });
  }
  if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(message))) {
    return new TransientPortError(`database unavailable: ${message}`, {
      cause: error,
      code: "DB_UNAVAILABLE",
    });
  }
  return new UnexpectedPortError(code ? `database error (SQLSTATE ${code}): ${message}` : message, {
    cause: error,
  });
}
