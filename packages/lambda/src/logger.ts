import type { Logger } from "@aws-lambda-powertools/logger";

/** The part of Powertools' Logger the handlers use (structured JSON, request id from the context). */
export type HandlerLogger = Pick<Logger, "addContext" | "debug" | "info" | "warn" | "error">;
