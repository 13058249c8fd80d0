import { isInputError, type LocalAwsError } from "../local-aws/errors.ts";

/** Errors of the devrunner: a base with a stable `code` and the exit code the CLI ends with. */
export abstract class DevrunnerError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, a missing argument, a file that cannot be read: exit code 2, like most CLIs. */
export class UsageError extends DevrunnerError {
  readonly code = "USAGE";
  readonly exitCode = 2;
}

/** The target is production and --allow-prod was not given. */
export class ProductionRefusedError extends DevrunnerError {
  readonly code = "PRODUCTION_REFUSED";
  readonly exitCode = 3;
}

/** The function could not be run as asked (build failed, init failed, timed out). */
export class InvokeError extends DevrunnerError {
  readonly code = "INVOKE_FAILED";
  readonly exitCode = 1;
}

/**
 * The exit code for an error of the local-AWS core: 2 when the user's input is at fault (a template, a file,
 * a flag's value), 3 for a refused production environment, 1 otherwise.
 */
export function exitCodeOf(error: LocalAwsError): number {
  if (error.code === "PRODUCTION_REFUSED") return 3;
  return isInputError(error) ? 2 : 1;
}
