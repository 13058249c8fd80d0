// What `devrunner up` does once its flags are parsed, in named steps: the flow's options (the flags and
// what is printed), the companions that serve it (the browser console, the state file other commands
// read, the session link), and the stop. The command file only parses and calls.
import type { FlowMonitor, RunningConsole } from "../console/index.ts";
import { openConsole, teeLogs } from "../console/index.ts";
import { removeUpState, writeUpState } from "../local-aws/cloud/state.ts";
import type { LocalFlow, LocalFlowOptions } from "../local-aws/flow.ts";
import { linkedInvoker, startedFunction } from "../session-link/invoke.ts";
import { linkSession, servedDatabase, topicPublisher } from "../session-link/work.ts";
import { describeInspector } from "./debugger.ts";
import type { FunctionRequest } from "./function-target.ts";
import { printBatch, printReload, printScheduledRun } from "./print-flow.ts";
import { functionLogs } from "./print-invocation.ts";

/** The flags of `up` that shape the flow, parsed. */
export interface UpSettings {
  readonly port: number;
  readonly visibilityTimeoutSeconds: number | undefined;
  readonly schedulePeriodMs: number | undefined;
  readonly inspectPort: number | undefined;
  readonly fresh: boolean;
  readonly hotReload: boolean;
}

/** The flow's options: the parsed flags, and every report printed (and shown in the console, if any). */
export function upFlowOptions(
  request: FunctionRequest,
  settings: UpSettings,
  monitor: FlowMonitor | undefined,
  flow: () => LocalFlow,
): LocalFlowOptions {
  const { inspectPort } = settings;
  return {
    ...request,
    port: settings.port,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    ...(settings.schedulePeriodMs === undefined ? {} : { schedulePeriodMs: settings.schedulePeriodMs }),
    logSink: teeLogs(functionLogs, monitor),
    onInvoke: monitor?.invocationStarted,
    onBatch: (outcome) => {
      printBatch(outcome, flow());
      monitor?.batchDone(outcome);
    },
    onError: (error) => process.stderr.write(`event-source mapping: ${(error as Error).message}\n`),
    onScheduledRun: printScheduledRun,
    note: (text) => void process.stderr.write(`${text}\n`),
    ...(inspectPort === undefined
      ? {}
      : {
          inspector: {
            port: inspectPort,
            onListening: (event, logicalId) =>
              void process.stderr.write(`${describeInspector(event, logicalId)}\n`),
          },
        }),
    keepMessagesIn: request.config.localCloudDir,
    fresh: settings.fresh,
    hotReload: settings.hotReload,
    onReload: printReload,
  };
}

/** What serves a running flow besides its terminal: the console, the state file, the session link. */
export interface UpCompanions {
  readonly console: RunningConsole | undefined;
  readonly link: Awaited<ReturnType<typeof linkSession>>;
}

export async function serveFlow(
  flow: LocalFlow,
  request: FunctionRequest,
  monitor: FlowMonitor | undefined,
  consolePort: number | undefined,
): Promise<UpCompanions> {
  const browserConsole = monitor && (await openConsole(flow, monitor, consolePort));
  writeUpState(request.config.stateFile, flow.upState(process.pid));
  if (browserConsole) process.stdout.write(`console ${browserConsole.url}\n`);
  const embedded = flow.prepared.embedded;
  const link = await linkSession(request.config, {
    ...(embedded ? { database: servedDatabase(embedded, request.dataDir) } : {}),
    publish: topicPublisher(flow.upState(process.pid)),
    invoke: linkedInvoker(startedFunction(flow.prepared, request)),
  });
  return { console: browserConsole, link };
}

/** Ctrl-C: the companions first (nothing new comes in), then the flow, saying what it cut short. */
export async function stopUp(
  flow: LocalFlow,
  request: FunctionRequest,
  companions: UpCompanions,
): Promise<void> {
  // A second Ctrl-C does not wait for anything.
  process.once("SIGINT", () => process.exit(130));
  process.stdout.write("stopping\n");
  removeUpState(request.config.stateFile);
  await companions.console?.stop();
  await companions.link?.close();
  const { interruptedInvocations, interruptedRecords } = await flow.stop();
  if (interruptedInvocations > 0)
    process.stdout.write(
      `stopped ${interruptedInvocations} invocation(s) still running after 1 s; their ${interruptedRecords} record(s) are delivered again on the next \`up\`\n`,
    );
}
