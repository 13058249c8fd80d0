// Loaded afresh for every run of `watch` (see watch.ts): the code here and everything it imports from
// the project is the code on disk at that moment; `WatchState` carries what stays open between runs.
import { readJsonFile } from "../cli/args.ts";
import { openDevApp } from "../root.ts";
import { ensureBuilt } from "../local-aws/build.ts";
import {
  createCustomResources,
  prepareFunction,
  validateEnvVarsFile,
  type PreparedFunction,
} from "../local-aws/prepare.ts";
import { createOutput } from "../cli/output.ts";
import { describeTarget, resolveTarget } from "../cli/target.ts";
import { invokePrepared, parseInvokeRequest, printInvocation, type InvokeRequest } from "./invoke.ts";
import { PROCESS_SPEC } from "./process.ts";
import { parseCommand } from "../cli/flags.ts";
import { runProcess } from "../cli/process-report.ts";
import type { DevApp } from "../root.ts";

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
    const { values, positionals } = parseCommand(PROCESS_SPEC, argv);
    const { env, target } = resolveTarget(values);
    process.stderr.write(`target: ${describeTarget(target)}\n`);
    const app = await openDevApp({ target, env });
    return { kind: "process", keys: positionals, json: values.json, app, close: () => app.close() };
  }
  const { request, json } = parseInvokeRequest(argv);
  const envVars = request.envVarsPath
    ? validateEnvVarsFile(readJsonFile(request.envVarsPath, "env-vars file"), request.envVarsPath)
    : undefined;
  const note = (text: string): void => void process.stderr.write(`${text}\n`);
  const prepared = await prepareFunction({ ...request, envVars, note });
  try {
    await createCustomResources(prepared, { note, logSink: (chunk) => process.stderr.write(chunk) });
  } catch (error) {
    await prepared.close();
    throw error;
  }
  return { kind: "invoke", request, json, prepared, close: () => prepared.close() };
}

export async function runOnce(state: WatchState): Promise<number> {
  if (state.kind === "process") {
    // Fresh domain and adapter code around the database that stayed open.
    const app = await openDevApp({ target: state.app.target, env: process.env, reuse: state.app });
    return runProcess(app, state.keys, createOutput(state.json));
  }
  const note = (text: string): void => void process.stderr.write(`${text}\n`);
  const { prepared } = state;
  const { rebuilt } = await ensureBuilt(
    prepared.template,
    prepared.definition.logicalId,
    state.request.config,
    note,
  );
  // New code may bring a migration: run the custom resources again, as a deploy of it would.
  if (rebuilt)
    await createCustomResources(prepared, { note, logSink: (chunk) => process.stderr.write(chunk) });
  const event = state.request.eventPath ? readJsonFile(state.request.eventPath, "event") : {};
  const report = await invokePrepared(state.prepared, event);
  return printInvocation(report, state.prepared, createOutput(state.json));
}
