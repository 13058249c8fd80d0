/** What went wrong in the local-AWS core, as a stable code; the caller (a command) decides what to print. */
export type LocalAwsErrorCode =
  /** The template cannot be read or is not a SAM template. */
  | "TEMPLATE_UNREADABLE"
  | "TEMPLATE_INVALID"
  /** No such function, or several and none named. */
  | "FUNCTION_NOT_FOUND"
  | "FUNCTION_AMBIGUOUS"
  /** The env-vars file does not have SAM's shape. */
  | "ENV_VARS_INVALID"
  /** The function has no SQS event source, or its queue is not among the template's. */
  | "EVENT_SOURCE_MISSING"
  /** A queue's visibility timeout is below the function's Timeout (AWS refuses such a mapping). */
  | "VISIBILITY_TIMEOUT_TOO_SHORT"
  /** The function's environment names production and that was not allowed. */
  | "PRODUCTION_REFUSED"
  /** The project's production pattern (package.json devrunner.productionEnvironments) is unusable. */
  | "PRODUCTION_PATTERN_INVALID"
  /** The function's build (`make build-<Id>`) failed. */
  | "BUILD_FAILED"
  /** A custom resource the function depends on cannot be run locally, or answered FAILED. */
  | "CUSTOM_RESOURCE_UNRUNNABLE"
  | "CUSTOM_RESOURCE_FAILED"
  /** Nothing is running where a running local cloud (`up`) was expected. */
  | "NO_LOCAL_CLOUD"
  /** A debug port (invoke -d, up --inspect) is not a port number, or is taken. */
  | "DEBUG_PORT_INVALID"
  | "DEBUG_PORT_IN_USE"
  /** start-lambda's port is taken. */
  | "API_PORT_IN_USE"
  /** up's emulator port is taken. */
  | "EMULATOR_PORT_IN_USE";

/** The core's one error type: a stable code and a message that says what was wrong and where. */
export class LocalAwsError extends Error {
  readonly code: LocalAwsErrorCode;

  constructor(code: LocalAwsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalAwsError";
    this.code = code;
  }
}

/** Codes the caller's input caused (a template, a file, a setting, a flag's value). */
const INPUT_ERRORS: ReadonlySet<LocalAwsErrorCode> = new Set([
  "TEMPLATE_UNREADABLE",
  "TEMPLATE_INVALID",
  "FUNCTION_NOT_FOUND",
  "FUNCTION_AMBIGUOUS",
  "ENV_VARS_INVALID",
  "EVENT_SOURCE_MISSING",
  "VISIBILITY_TIMEOUT_TOO_SHORT",
  "PRODUCTION_PATTERN_INVALID",
  "NO_LOCAL_CLOUD",
  "DEBUG_PORT_INVALID",
  "DEBUG_PORT_IN_USE",
  "API_PORT_IN_USE",
  "EMULATOR_PORT_IN_USE",
]);

export function isInputError(error: LocalAwsError): boolean {
  return INPUT_ERRORS.has(error.code);
}
