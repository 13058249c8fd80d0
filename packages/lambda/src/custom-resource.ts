import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { CloudFormationCustomResourceResponse, Context } from "aws-lambda";

/** A CloudFormation custom-resource request, checked (the fields this package uses). */
export interface CustomResourceRequest {
  readonly requestType: "Create" | "Update" | "Delete";
  readonly logicalResourceId: string;
  /** Set on Update and Delete: the id the last Create or Update answered. */
  readonly physicalResourceId: string | undefined;
  readonly resourceProperties: Readonly<Record<string, unknown>>;
  /** Aborted when the time to answer runs out: stop working and release what is held. */
  readonly signal: AbortSignal;
}

export interface CustomResourceOutcome {
  readonly status: "SUCCESS" | "FAILED";
  readonly reason: string;
  /** For Create; on Update and Delete the request's id is echoed (a new one would mean a replacement). */
  readonly physicalResourceId?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** What a custom resource does; expected failures come back as FAILED outcomes, not exceptions. */
export interface CustomResourceProvider {
  handle(request: CustomResourceRequest): Promise<CustomResourceOutcome>;
}

/** The part of Powertools' Logger used here. */
export interface ResponseLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export type CustomResourceHandler = (
  event: unknown,
  context: Pick<Context, "getRemainingTimeInMillis" | "logStreamName">,
) => Promise<CloudFormationCustomResourceResponse>;

/** CloudFormation refuses a response body over 4,096 bytes (and then waits for its timeout). */
const MAX_RESPONSE_BYTES = 4096;
/** Time kept back from the function's Timeout to send the answer (at most a tenth of the time left). */
const ANSWER_MARGIN_MILLIS = 15_000;
/** Each attempt to send the answer; three attempts and their pauses fit in the margin. */
const ANSWER_TIMEOUT_MILLIS = 4000;
const REQUEST_TYPES = ["Create", "Update", "Delete"] as const;

/**
 * The Lambda side of a CloudFormation custom resource: whatever goes wrong (a config error caught at
 * init, an exception, running out of time), it answers CloudFormation with a PUT to the pre-signed
 * ResponseURL before the function's Timeout. Without an answer CloudFormation waits for the resource's
 * ServiceTimeout (an hour by default) before it fails the deploy.
 * `setup` runs once, at init; when it throws (a bad variable), every request is answered FAILED with the
 * error, except Delete: a function that was never configured created nothing to delete.
 */
export function createCustomResourceHandler(
  setup: () => { provider: CustomResourceProvider; logger: ResponseLogger },
): CustomResourceHandler {
  let configured: { provider: CustomResourceProvider; logger: ResponseLogger } | undefined;
  let setupError: string | undefined;
  try {
    configured = setup();
  } catch (error) {
    setupError = `the function's configuration is invalid: ${messageOf(error)}`;
  }
  const logger: ResponseLogger = configured?.logger ?? jsonConsoleLogger;

  return async (event, context) => {
    const fields = readCustomResourceEvent(event);
    const started = Date.now();
    const physicalDefault = fields.PhysicalResourceId ?? `${fields.LogicalResourceId}-not-created`;
    const controller = new AbortController();
    let outcome: CustomResourceOutcome;
    if (!isRequestType(fields.RequestType)) {
      outcome = { status: "FAILED", reason: `unknown RequestType '${String(fields.RequestType)}'` };
    } else if (setupError !== undefined || !configured) {
      outcome =
        fields.RequestType === "Delete"
          ? { status: "SUCCESS", reason: `nothing to delete (${setupError})` }
          : { status: "FAILED", reason: setupError ?? "not configured" };
    } else {
      const request: CustomResourceRequest = {
        requestType: fields.RequestType,
        logicalResourceId: fields.LogicalResourceId,
        physicalResourceId: fields.PhysicalResourceId,
        resourceProperties: fields.ResourceProperties,
        signal: controller.signal,
      };
      const remaining = context.getRemainingTimeInMillis();
      const budget = remaining - Math.min(ANSWER_MARGIN_MILLIS, remaining / 10);
      outcome = await withinTime(configured.provider, request, budget, controller);
    }
    const response = customResourceResponse(fields, outcome, physicalDefault, context.logStreamName);
    const log = response.Status === "SUCCESS" ? logger.info.bind(logger) : logger.error.bind(logger);
    log(`${String(fields.RequestType)} ${fields.LogicalResourceId}: ${response.Status}`, {
      requestId: fields.RequestId,
      reason: response.Reason,
      physicalResourceId: response.PhysicalResourceId,
      durationMs: Date.now() - started,
    });
    await sendResponse(fields.ResponseURL, response, logger);
    return response;
  };
}

async function withinTime(
  provider: CustomResourceProvider,
  request: CustomResourceRequest,
  budgetMillis: number,
  controller: AbortController,
): Promise<CustomResourceOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<CustomResourceOutcome>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort();
        resolve({
          status: "FAILED",
          reason: `did not finish within ${Math.round(budgetMillis / 1000)} s (the function's Timeout, less the time to answer); its work was abandoned`,
        });
      },
      Math.max(0, budgetMillis),
    );
  });
  const handled = provider
    .handle(request)
    .catch((error: unknown): CustomResourceOutcome => ({ status: "FAILED", reason: messageOf(error) }));
  try {
    return await Promise.race([handled, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CustomResourceEventFields {
  readonly RequestType: unknown;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId: string | undefined;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

/** Without a ResponseURL (and the ids the answer must carry) nobody can be answered: that alone throws. */
export function readCustomResourceEvent(event: unknown): CustomResourceEventFields {
  const raw = (typeof event === "object" && event !== null ? event : {}) as Record<string, unknown>;
  const missing = ["ResponseURL", "StackId", "RequestId", "LogicalResourceId"].filter(
    (name) => typeof raw[name] !== "string" || raw[name] === "",
  );
  if (missing.length > 0) {
    throw new Error(
      `not a CloudFormation custom-resource event: ${missing.join(", ")} missing (this function is run by the stack's custom resource)`,
    );
  }
  const properties = raw.ResourceProperties;
  return {
    RequestType: raw.RequestType,
    ResponseURL: raw.ResponseURL as string,
    StackId: raw.StackId as string,
    RequestId: raw.RequestId as string,
    LogicalResourceId: raw.LogicalResourceId as string,
    PhysicalResourceId:
      typeof raw.PhysicalResourceId === "string" && raw.PhysicalResourceId
        ? raw.PhysicalResourceId
        : undefined,
    ResourceProperties:
      typeof properties === "object" && properties !== null ? (properties as Record<string, unknown>) : {},
  };
}

function isRequestType(value: unknown): value is CustomResourceRequest["requestType"] {
  return (REQUEST_TYPES as readonly unknown[]).includes(value);
}

export function customResourceResponse(
  fields: CustomResourceEventFields,
  outcome: CustomResourceOutcome,
  physicalDefault: string,
  logStreamName: string | undefined,
): CloudFormationCustomResourceResponse {
  const build = (
    reason: string,
    data: Readonly<Record<string, string>>,
  ): CloudFormationCustomResourceResponse => ({
    Status: outcome.status,
    Reason: reason,
    PhysicalResourceId: fields.PhysicalResourceId ?? outcome.physicalResourceId ?? physicalDefault,
    StackId: fields.StackId,
    RequestId: fields.RequestId,
    LogicalResourceId: fields.LogicalResourceId,
    Data: { ...data },
  });
  const logs = outcome.status === "FAILED" && logStreamName ? ` (log stream ${logStreamName})` : "";
  let data = outcome.data ?? {};
  const full = build(`${outcome.reason}${logs}`, data);
  if (jsonBytes(full) <= MAX_RESPONSE_BYTES) return full;
  // Data is for Fn::GetAtt and the reason for people, whose start says what happened: keep both if they
  // fit, else the data only when it is small, and cut the reason's end (not where the logs are).
  if (jsonBytes(data) > MAX_RESPONSE_BYTES / 2) data = {};
  const suffix = ` [truncated]${logs}`;
  const room = MAX_RESPONSE_BYTES - jsonBytes(build(suffix, data)) - 2;
  let reason = outcome.reason;
  while (jsonBytes(reason) > room) reason = reason.slice(0, Math.max(0, reason.length - 32));
  return build(`${reason}${suffix}`, data);
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * PUTs the answer to the pre-signed URL as CloudFormation expects: JSON with an empty content type (the
 * signature covers it) and a content length. Retried a few times: without an answer the stack waits for
 * the resource's ServiceTimeout (an hour by default).
 */
async function sendResponse(
  url: string,
  response: CloudFormationCustomResourceResponse,
  logger: ResponseLogger,
): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await put(url, body);
      return;
    } catch (error) {
      if (attempt >= 3) {
        logger.error("could not answer CloudFormation: the stack waits until the resource times out", {
          error: messageOf(error),
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

function put(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = (target.protocol === "http:" ? httpRequest : httpsRequest)(
      target,
      {
        method: "PUT",
        headers: { "content-type": "", "content-length": Buffer.byteLength(body) },
        timeout: ANSWER_TIMEOUT_MILLIS,
      },
      (answer) => {
        answer.resume();
        answer.on("end", () => {
          const status = answer.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the response URL answered HTTP ${status}`));
        });
      },
    );
    request.on("timeout", () =>
      request.destroy(new Error(`the response URL did not answer in ${ANSWER_TIMEOUT_MILLIS / 1000} s`)),
    );
    request.on("error", reject);
    request.end(body);
  });
}

/** Powertools-like JSON lines, for when the function's config (and so its logger) could not be made. */
const jsonConsoleLogger: ResponseLogger = {
  info: (message, attributes) => console.info(JSON.stringify({ level: "INFO", message, ...attributes })),
  error: (message, attributes) => console.error(JSON.stringify({ level: "ERROR", message, ...attributes })),
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
