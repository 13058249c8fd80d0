export type SessionServerErrorCode =
  /** The port could not be listened on (in use, not allowed). Retrying on another port may work. */
  | "SESSION_SERVER_LISTEN_FAILED"
  /** PGlite failed outside SQL (its WebAssembly aborted): the session can no longer be trusted. */
  | "SESSION_DATABASE_FAILED";

/** An error of the session server, with a stable code and whether trying again may help. */
export class SessionServerError extends Error {
  readonly code: SessionServerErrorCode;
  readonly retryable: boolean;

  constructor(
    code: SessionServerErrorCode,
    message: string,
    options: { cause?: unknown; retryable: boolean },
  ) {
    super(message, { cause: options.cause });
    this.name = "SessionServerError";
    this.code = code;
    this.retryable = options.retryable;
  }
}
