// Loaded afresh for every run of `watch` (see watch.ts): the code here and everything it imports from
// the project is the code on disk at that moment; `WatchState` carries what stays open between runs.
import { readJsonFile } from "../cli/args.ts";
import { parseCommand } from "../cli/flags.ts";
import { withSamConfig } from "../cli/sam-options.ts";
import { resolveFunctionRequest } from "../cli/function-target.ts";
import { createOutput } from "../cli/output.ts";
import { userPath } from "../cli/paths.ts";
import { functionLogs, printInvocation } from "../cli/print-invocation.ts";
import { runProcess } from "../cli/process-report.ts";
import { describeTarget, resolveTarget } from "../cli/target.ts";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import { builtStamp, ensureBuilt } from "../local-aws/build.ts";
import { invokePrepared } from "../local-aws/invoke.ts";
import { createCustomResources, prepareFunction, type PreparedFunction } from "../local-aws/prepare.ts";
import { openDevApp, type DevApp } from "../root.ts";
import { INVOKE_SPEC } from "./invoke.ts";
import { PROCESS_SPEC, requireKeys } from "./process.ts";

export type WatchState =
  | { kind: "process"; keys: string[]; json: boolean; app: DevApp; close(): Promise<void> }
  | {
      kind: "invoke";
      eventPath: string | undefined;
      json: boolean;
      config: LocalAwsConfig;
      prepared: PreparedFunction;
      templatePath: string;
      dataDir: string;
      /** The build its custom resources last ran for (linked invokes run only on it). */
      migratedBuild: number | undefined;
      close(): Promise<void>;
    };

const note = (text: string): void => void process.stderr.write(`${text}\n`);

export async function openWatchState(
  command: "process" | "invoke",
  argv: readonly string[],
): Promise<WatchState> {
  if (command === "process") {
    const { values, positionals } = parseCommand(PROCESS_SPEC, argv);
    requireKeys(positionals);
    const { env, target } = resolveTarget(values);
    note(`target: ${describeTarget(target)}`);
    const app = await openDevApp({ target, env });
    return { kind: "process", keys: positionals, json: values.json, app, close: () => app.close() };
  }
  const { values, positionals } = parseCommand(
    INVOKE_SPEC,
    withSamConfig(INVOKE_SPEC, "local_invoke", argv, process.env),
  );
  const request = resolveFunctionRequest("invoke", values, positionals);
  const eventPath =
    values.event === undefined || values.event === "-" ? values.event : userPath(values.event);
  const prepared = await prepareFunction({ ...request, note });
  try {
    await createCustomResources(prepared, { note, logSink: functionLogs });
  } catch (error) {
    await prepared.close();
    throw error;
  }
  return {
    kind: "invoke",
    eventPath,
    json: values.json,
    config: request.config,
    prepared,
    templatePath: request.templatePath,
    dataDir: request.dataDir,
    migratedBuild: builtStamp(prepared.template, prepared.definition.logicalId, request.config),
    close: () => prepared.close(),
  };
}

export async function runOnce(state: WatchState): Promise<number> {
  if (state.kind === "process") {
    // Fresh domain and adapter code around the database that stayed open.
    const app = await openDevApp({ target: state.app.target, env: process.env, reuse: state.app });
    return runProcess(app, state.keys, createOutput(state.json));
  }
  const { prepared } = state;
  const { rebuilt } = await ensureBuilt(prepared.template, prepared.definition.logicalId, state.config, note);
  // New code may bring a migration: run the custom resources again, as a deploy of it would.
  if (rebuilt) {
    await createCustomResources(prepared, { note, logSink: functionLogs });
    state.migratedBuild = builtStamp(prepared.template, prepared.definition.logicalId, state.config);
  }
  const event = state.eventPath ? readJsonFile(state.eventPath, "event") : {};
  const report = await invokePrepared(prepared, event, functionLogs);
  return printInvocation(report, prepared, createOutput(state.json));
}
