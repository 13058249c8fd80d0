/** Errors of the Lambda package: a base with a stable `code`. Config errors are the adapters' ConfigError. */
export abstract class LambdaError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The function cannot take this batch at all (e.g. the schema is behind); every record is retried. */
export class NotReadyError extends LambdaError {
  readonly code = "FUNCTION_NOT_READY";
}
