import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { SamFunctionDefinition, SamTemplate } from "../template/sam-template.ts";
import { LocalAwsError } from "../errors.ts";
import { FunctionWorker, type InvocationResult } from "./function-worker.ts";
import { currentSchemaReason, SCHEMA_MIGRATION_TYPE } from "./schema-check.ts";

/** A custom resource of the template (`Custom::*`) that a function depends on, backed by a template function. */
export interface CustomResourceDefinition {
  readonly logicalId: string;
  readonly type: string;
  /** The template function its ServiceToken names (`!Ref Fn`, `!Ref Fn.Alias`, `!GetAtt Fn.Arn`). */
  readonly serviceFunctionId: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** A custom resource ready to run: its function's definition and environment, in a (prestarted) worker. */
export interface PreparedCustomResource {
  readonly definition: CustomResourceDefinition;
  readonly service: SamFunctionDefinition;
  readonly env: Readonly<Record<string, string>>;
  /** ResourceProperties as CloudFormation would send them (strings; what cannot be resolved locally is "local"). */
  readonly properties: Readonly<Record<string, string>>;
  readonly worker: ResourceWorker;
}

/** An execution environment for a resource's function; its logs are kept, and shown if it fails. */
export interface ResourceWorker {
  readonly worker: FunctionWorker;
  readonly logs: Buffer[];
}

/**
 * Started now (Node's start-up overlaps the caller's set-up), or with `lazy` only at the Create (when
 * the schema may turn out current and the environment not be needed at all).
 */
export function prestartResourceWorker(lazy = false): ResourceWorker {
  const logs: Buffer[] = [];
  const worker = new FunctionWorker({ logSink: (chunk) => logs.push(chunk) });
  if (!lazy) worker.prestart();
  return { worker, logs };
}

const CUSTOM_RESOURCE_TYPE = /^(Custom::|AWS::CloudFormation::CustomResource$)/;

/**
 * The custom resources `logicalId` depends on (DependsOn), in order: CloudFormation creates them before
 * the function, so a local run creates them before the function's first invocation.
 */
export function customResourcesBefore(template: SamTemplate, logicalId: string): CustomResourceDefinition[] {
  const dependsOn = template.resources[logicalId]?.DependsOn;
  const names = dependsOn === undefined ? [] : typeof dependsOn === "string" ? [dependsOn] : [...dependsOn];
  const found: CustomResourceDefinition[] = [];
  for (const name of names) {
    const resource = template.resources[name];
    if (!resource || !CUSTOM_RESOURCE_TYPE.test(resource.Type)) continue;
    const serviceFunctionId = functionNamedBy(resource.Properties?.ServiceToken);
    if (!serviceFunctionId || template.resources[serviceFunctionId]?.Type !== "AWS::Serverless::Function") {
      throw new LocalAwsError(
        "CUSTOM_RESOURCE_UNRUNNABLE",
        `${name} (${resource.Type}), which ${logicalId} depends on, has a ServiceToken that names no function of the template (${JSON.stringify(resource.Properties?.ServiceToken)}): it cannot be run locally`,
      );
    }
    found.push({
      logicalId: name,
      type: resource.Type,
      serviceFunctionId,
      properties: resource.Properties ?? {},
    });
  }
  return found;
}

/** The template's functions that some custom resource names as its ServiceToken. */
export function customResourceProviders(template: SamTemplate): string[] {
  return Object.values(template.resources)
    .filter((resource) => CUSTOM_RESOURCE_TYPE.test(resource.Type))
    .map((resource) => functionNamedBy(resource.Properties?.ServiceToken))
    .filter((id): id is string => id !== undefined);
}

function functionNamedBy(token: unknown): string | undefined {
  if (typeof token !== "object" || token === null) return undefined;
  const { Ref: ref, "Fn::GetAtt": getAtt } = token as { Ref?: unknown; "Fn::GetAtt"?: unknown };
  if (typeof ref === "string") return ref.replace(/\.(Alias|Version)$/, "");
  if (Array.isArray(getAtt) && typeof getAtt[0] === "string" && getAtt[1] === "Arn") return getAtt[0];
  return undefined;
}

export interface CustomResourceRunOptions {
  readonly region: string;
  readonly note: (text: string) => void;
  /** Where a failed resource function's logs go (a successful run's logs are dropped). */
  readonly logSink: (chunk: Buffer) => void;
  /**
   * Asks the database first whether the schema migration has anything to apply, and starts its function
   * only when it has (or when the check cannot tell). Only where the devrunner's migration list is the
   * bundle's, as in a one-shot `invoke` (a long-running session may hold an older list).
   */
  readonly checkSchemaFirst?: boolean;
}

/**
 * Creates each resource as CloudFormation does: invokes its function with a Create event whose ResponseURL
 * is a listener here, and reads the answer the function PUTs. A FAILED answer (or none) stops the run with
 * the reason, as it fails a deploy.
 */
export async function runCustomResources(
  resources: readonly PreparedCustomResource[],
  options: CustomResourceRunOptions,
): Promise<void> {
  const toCreate: PreparedCustomResource[] = [];
  for (const resource of resources) {
    if (!(options.checkSchemaFirst && (await alreadyCurrent(resource, options)))) toCreate.push(resource);
  }
  if (toCreate.length === 0) return;
  const listener = await startResponseListener();
  const stackId = `arn:aws:cloudformation:${options.region}:123456789012:stack/devrunner-local/${randomUUID()}`;
  try {
    for (const resource of toCreate) await create(resource, stackId, listener, options);
  } finally {
    listener.close();
  }
}

/**
 * A schema migration with nothing to apply answers SUCCESS after one read; that read, made here, spares
 * starting its execution environment (most of an `invoke`'s cost). A schema behind still goes through
 * the function.
 */
async function alreadyCurrent(
  resource: PreparedCustomResource,
  options: CustomResourceRunOptions,
): Promise<boolean> {
  if (resource.definition.type !== SCHEMA_MIGRATION_TYPE) return false;
  const started = performance.now();
  const reason = await currentSchemaReason(resource.env);
  if (reason === undefined) return false;
  resource.worker.worker.stop();
  options.note(
    `${describeResource(resource)}: SUCCESS in ${(performance.now() - started).toFixed(0)} ms: ${reason} (asked here: ${resource.service.logicalId} was not started)`,
  );
  return true;
}

function describeResource({ definition, service }: PreparedCustomResource): string {
  return `${definition.logicalId} (${definition.type}, by ${service.logicalId})`;
}

async function create(
  resource: PreparedCustomResource,
  stackId: string,
  listener: ResponseListener,
  options: CustomResourceRunOptions,
): Promise<void> {
  const { definition, service } = resource;
  const { worker, logs } = resource.worker;
  const requestId = randomUUID();
  const started = performance.now();
  worker.configure({
    env: resource.env,
    timeoutMs: service.timeoutSeconds * 1000,
    memorySizeMb: service.memorySizeMb,
  });
  worker.initialize();
  const serviceToken = `arn:aws:lambda:${options.region}:123456789012:function:${service.logicalId}`;
  let result: InvocationResult;
  try {
    result = (
      await worker.invoke({
        RequestType: "Create",
        ServiceToken: serviceToken,
        ResponseURL: `${listener.url}/${definition.logicalId}/${requestId}`,
        StackId: stackId,
        RequestId: requestId,
        LogicalResourceId: definition.logicalId,
        ResourceType: definition.type,
        ResourceProperties: { ...resource.properties, ServiceToken: serviceToken },
      })
    ).result;
  } finally {
    worker.stop();
  }
  const what = describeResource(resource);
  // Its logs (from its start on) are shown only when it fails; a later run (watch) starts afresh.
  const shownLogs = logs.splice(0);
  const failure = (reason: string): LocalAwsError => {
    for (const chunk of shownLogs) options.logSink(chunk);
    return new LocalAwsError(
      "CUSTOM_RESOURCE_FAILED",
      `${what} failed, as it would fail the deploy: ${reason}`,
    );
  };
  const answer = listener.answers.get(requestId);
  if (!answer) {
    throw failure(
      `${service.logicalId} never answered the ResponseURL (CloudFormation would wait until the resource's ServiceTimeout): ${describeResult(result, service)}`,
    );
  }
  const problem = contractProblem(answer, { requestId, stackId, logicalId: definition.logicalId });
  if (problem) throw failure(`its answer breaks the custom-resource contract: ${problem}`);
  const reason = typeof answer.body.Reason === "string" ? answer.body.Reason : "";
  if (answer.body.Status !== "SUCCESS") throw failure(reason || "(no Reason given)");
  options.note(`${what}: SUCCESS in ${(performance.now() - started).toFixed(0)} ms: ${reason}`);
}

function describeResult(result: InvocationResult, service: SamFunctionDefinition): string {
  if (result.status === "timeout") return `it timed out after ${service.timeoutSeconds} s`;
  if (result.status === "error") return `${result.error.errorType}: ${result.error.errorMessage}`;
  return `it returned ${JSON.stringify(result.response)?.slice(0, 200)}`;
}

interface Answer {
  readonly method: string;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/** What CloudFormation would refuse in an answer (it then waits for the resource's ServiceTimeout). */
function contractProblem(
  answer: Answer,
  expected: { requestId: string; stackId: string; logicalId: string },
): string | undefined {
  if (answer.method !== "PUT") return `sent with ${answer.method}, not PUT`;
  if (answer.contentType)
    return `content-type '${answer.contentType}' (the pre-signed URL is signed for none)`;
  const { body } = answer;
  if (body.Status !== "SUCCESS" && body.Status !== "FAILED") return `Status ${JSON.stringify(body.Status)}`;
  if (typeof body.PhysicalResourceId !== "string" || !body.PhysicalResourceId) return "no PhysicalResourceId";
  for (const [field, value] of [
    ["RequestId", expected.requestId],
    ["StackId", expected.stackId],
    ["LogicalResourceId", expected.logicalId],
  ] as const) {
    if (body[field] !== value) return `${field} ${JSON.stringify(body[field])} is not the request's`;
  }
  return undefined;
}

interface ResponseListener {
  readonly url: string;
  readonly answers: Map<string, Answer>;
  close(): void;
}

/** The local stand-in for CloudFormation's pre-signed S3 response URL. */
async function startResponseListener(): Promise<ResponseListener> {
  const answers = new Map<string, Answer>();
  const server: Server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    request.on("end", () => {
      const requestId = (request.url ?? "").split("/").pop() ?? "";
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { Status: `(not JSON: ${text.slice(0, 100)})` };
      }
      answers.set(requestId, {
        method: request.method ?? "",
        contentType: request.headers["content-type"],
        body,
      });
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answers,
    close: () => server.close(),
  };
}
