/**
 * Errors the ports raise. Expected failures (an invalid key) are values, not errors; these are for what
 * goes wrong around the domain. `retryable` is what the Lambda needs: retry through SQS, or give up.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** May succeed later: a database or queue that is down, a timeout, a throttle. */
export class TransientPortError extends DomainError {
  readonly code: string;
  readonly retryable = true;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? "PORT_TRANSIENT";
  }
}

/**
 * The port cannot be reached at all (a database that refuses connections or credentials): nothing in the
 * batch can succeed now, so the caller retries the whole batch later instead of failing records one by one.
 */
export class PortUnavailableError extends TransientPortError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, { ...options, code: options?.code ?? "PORT_UNAVAILABLE" });
  }
}

/** Will never succeed as it is: a value the database refuses, a message too large to send. */
export class PermanentPortError extends DomainError {
  readonly code: string;
  readonly retryable = false;

  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options);
    this.code = options?.code ?? "PORT_PERMANENT";
  }
}

/** Something the domain did not expect, e.g. a bug in an adapter; treated as retryable so nothing is lost. */
export class UnexpectedPortError extends DomainError {
  readonly code = "PORT_UNEXPECTED";
  readonly retryable = true;
}

/** The caller's time ran out before this item was taken up; nothing was written for it. */
export class DeadlineReachedError extends DomainError {
  readonly code = "DEADLINE_REACHED";
  readonly retryable = true;
}

/** An earlier item of the same ordered group failed, so this one was not taken up (order is kept). */
export class GroupBlockedError extends DomainError {
  readonly code = "GROUP_BLOCKED";
  readonly retryable = true;
}

/** Wraps anything thrown by a port so callers always get a DomainError with a code. */
export function asPortError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new UnexpectedPortError(message, { cause: error });
}
