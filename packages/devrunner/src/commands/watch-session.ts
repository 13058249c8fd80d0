// Loaded afresh for every run of `watch` (see watch.ts): the code here and everything it imports from
// the project is the code on disk at that moment; `WatchState` carries what stays open between runs.
import { readJsonFile } from "../args.ts";
import { openDevApp } from "../composition.ts";
import { ensureBuilt, prepareFunction, validateEnvVarsFile, type PreparedFunction } from "../invocation.ts";
import { createOutput } from "../output.ts";
import { repositoryRoot } from "../paths.ts";
import { describeTarget, resolveTarget } from "../target.ts";
import { invokePrepared, parseInvokeRequest, printInvocation, type InvokeRequest } from "./invoke.ts";
import { PROCESS_OPTIONS, runProcess } from "./process.ts";
import { parseCommandArgs } from "../args.ts";
import type { DevApp } from "../composition.ts";

export type WatchState =
  | { kind: "process"; keys: string[]; json: boolean; app: DevApp; close(): Promise<void> }
  | {
      kind: "invoke";
      request: InvokeRequest;
      json: boolean;
      prepared: PreparedFunction;
      close(): Promise<void>;
    };

export async function openWatchState(
  command: "process" | "invoke",
  argv: readonly string[],
): Promise<WatchState> {
  if (command === "process") {
    const { values, positionals } = parseCommandArgs("process", argv, PROCESS_OPTIONS);
    const { env, target } = resolveTarget(values);
    process.stderr.write(`target: ${describeTarget(target)}\n`);
    const app = await openDevApp({ target, env });
    return { kind: "process", keys: positionals, json: values.json, app, close: () => app.close() };
  }
  const { request, json } = parseInvokeRequest(argv);
  const envVars = request.envVarsPath
    ? validateEnvVarsFile(readJsonFile(request.envVarsPath, "env-vars file"), request.envVarsPath)
    : undefined;
  const prepared = await prepareFunction({
    ...request,
    envVars,
    note: (text) => void process.stderr.write(`${text}\n`),
  });
  return { kind: "invoke", request, json, prepared, close: () => prepared.close() };
}

export async function runOnce(state: WatchState): Promise<number> {
  if (state.kind === "process") {
    // Fresh domain and adapter code around the database that stayed open.
    const app = await openDevApp({ target: state.app.target, env: process.env, reuse: state.app });
    return runProcess(app, state.keys, createOutput(state.json));
  }
  await ensureBuilt(
    state.prepared.definition.logicalId,
    repositoryRoot(),
    (text) => void process.stderr.write(`${text}\n`),
  );
  const event = state.request.eventPath ? readJsonFile(state.request.eventPath, "event") : {};
  const report = await invokePrepared(state.prepared, event);
  return printInvocation(report, state.prepared, createOutput(state.json));
}
