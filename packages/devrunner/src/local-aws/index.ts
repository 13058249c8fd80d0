// The local-AWS core: what `sam local` and a deployed stack do, in this process, for the devrunner's
// commands. Configured by one frozen LocalAwsConfig (parsed at the edge); it reads no process.env, prints
// nothing (notes, logs and outcomes go to the callbacks its callers give) and fails with LocalAwsError codes.
export { localAwsConfig, type LocalAwsConfig } from "./config.ts";
export { LocalAwsError, isInputError, type LocalAwsErrorCode } from "./errors.ts";
/** The SAM template model, function resolution and a function's environment as Lambda would set it. */
export { loadTemplate, pickFunction, validateEnvVarsFile } from "./template/functions.ts";
export {
  resolveFunctionEnvironment,
  type EnvVarsFile,
  type FunctionEnvironment,
} from "./template/function-environment.ts";
export {
  parseSamTemplate,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "./template/sam-template.ts";
/** A function built, its environment worked out, and what it needs started (cloud, embedded database). */
export {
  createCustomResources,
  prepareFunction,
  type PreparedFunction,
  type PrepareOptions,
} from "./prepare.ts";
export { ensureBuilt, type BuiltFunctions } from "./build.ts";
/** Execution environments: one warm child process per environment, and a pool of them. */
export {
  FunctionWorker,
  formatReport,
  workerBootEnvironment,
  type InvocationReport,
  type InvocationResult,
  type LogOrigin,
  type LogSink,
} from "./runtime/function-worker.ts";
export { FunctionPool } from "./runtime/function-pool.ts";
export { workerSettings } from "./runtime/runtime-environment.ts";
/** The local cloud (fauxqs with the template's topics, queues, subscriptions, redrive). */
export { localSqsClient, startLocalCloud, type LocalCloud, type LocalQueue } from "./cloud/local-cloud.ts";
export {
  LocalEventSourceMapping,
  type BatchOutcome,
  type BatchStart,
  type MappingSettings,
} from "./cloud/event-source-mapping.ts";
export { LocalSchedule, type ScheduledRun } from "./cloud/schedules.ts";
export { readUpState, removeUpState, writeUpState, type UpState } from "./cloud/state.ts";
/** The whole SNS -> SQS -> function flow, as `up` runs it. */
export {
  startLocalFlow,
  waitUntil,
  type FlowStopReport,
  type LocalFlow,
  type LocalFlowOptions,
} from "./flow.ts";
/** Hot reload of a running flow's function (`up`). */
export { startHotReload, type HotReload, type ReloadEvent } from "./hot-reload.ts";
export {
  hostEnvironmentName,
  loadProductionPattern,
  refuseProduction,
  type EnvironmentName,
  type ProductionPolicy,
} from "./production.ts";
export { sampleSqsEvent, snsEnvelope, type EventKind } from "./sample-events.ts";
/** The Node inspector in an execution environment (`invoke -d`, `up --inspect`). */
export { type InspectorEvent, type InspectorSettings } from "./runtime/inspector.ts";
/** The Lambda Invoke API for every function of the template, as `start-lambda` runs it. */
export { startLambdaApi, type LambdaApi, type LambdaApiOptions } from "./lambda-api.ts";
export { type ApiInvocation, type InvocationType } from "./cloud/lambda-invoke-api.ts";
