// `invoke` through a running session (`up`, `watch invoke`): the session's build, database and local
// cloud, and a warm execution environment of its own, when the client's command line gives the function
// exactly the environment the session runs it with. Anything else is declined and runs in the client.
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { namesDatabase } from "@entity/adapters/postgres";
import { parseParameterOverrides, readJsonFile } from "../cli/args.ts";
import { parseCommand } from "../cli/flags.ts";
import { recordLastCommand } from "../cli/last-command.ts";
import { printInvocation } from "../cli/print-invocation.ts";
import { DOCKER_ONLY_FLAGS, discoverTemplate } from "../cli/sam-options.ts";
import { DEFAULT_PGLITE_DIR, productionPolicy } from "../cli/target.ts";
import { INVOKE_SPEC } from "../commands/invoke.ts";
import type { WatchState } from "../commands/watch-session.ts";
import { builtStamp } from "../local-aws/build.ts";
import type { LocalAwsConfig } from "../local-aws/config.ts";
import type { PreparedFunction } from "../local-aws/prepare.ts";
import { hostEnvironmentName, refuseProduction } from "../local-aws/production.ts";
import { FunctionWorker, workerBootEnvironment } from "../local-aws/runtime/function-worker.ts";
import { lambdaRuntimeEnvironment, workerSettings } from "../local-aws/runtime/runtime-environment.ts";
import {
  functionEnvironmentName,
  resolveFunctionEnvironment,
} from "../local-aws/template/function-environment.ts";
import { pickFunction, validateEnvVarsFile } from "../local-aws/template/functions.ts";
import type { LinkRequest } from "./link.ts";
import type { LinkSink } from "./server.ts";
import type { SessionLink } from "./server.ts";
import { linkOutput, linkSession, parseOrDecline, type LinkedInvoker } from "./work.ts";

/** The function a session runs, as a linked `invoke` needs it. */
export interface SessionFunction {
  readonly prepared: PreparedFunction;
  readonly templatePath: string;
  /** The embedded database's folder (when `prepared.embedded`). */
  readonly dataDir: string;
  readonly config: LocalAwsConfig;
  /** The build the session last created its custom resources (the schema migration) for. */
  readonly migratedBuild: () => number | undefined;
}

type Declined = { declined: string };

/** Flags whose effect is the client's own (its log file, SAM's config, its region or profile, Docker notes). */
const OWN_RUN_FLAGS = [
  "log-file",
  "config-file",
  "config-env",
  "region",
  "profile",
  ...DOCKER_ONLY_FLAGS,
] as const;

/** Runs linked invokes one at a time in one warm environment (replaced when the build changes). */
export function linkedInvoker(session: SessionFunction): LinkedInvoker {
  const templateModified = statSync(session.templatePath).mtimeMs;
  let environment: { worker: FunctionWorker; build: number } | undefined;
  let logs: LinkSink | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const warmEnvironment = (build: number): FunctionWorker => {
    if (environment?.build !== build) {
      environment?.worker.stop();
      const { prepared, config } = session;
      const worker = new FunctionWorker({
        logSink: (chunk) => logs?.err(chunk.toString("utf8")),
        bootEnv: workerBootEnvironment(config.hostEnv),
        ...workerSettings(prepared.definition, prepared.env),
      });
      environment = { worker, build };
    }
    return environment.worker;
  };
  const run = async (request: LinkRequest, sink: LinkSink): Promise<number | Declined> => {
    const checked = checkRequest(request, session, templateModified);
    if ("declined" in checked) return checked;
    const { prepared } = session;
    const output = linkOutput(checked.json, sink);
    recordLastCommand("invoke", request.argv, request.env.INIT_CWD ?? request.cwd);
    for (const text of checked.warnings) output.note(text);
    output.note(
      `${prepared.definition.logicalId}: run by the running session (its build, database and local cloud; a warm execution environment)`,
    );
    logs = sink;
    try {
      const report = await warmEnvironment(checked.build).invoke(checked.event);
      return printInvocation(report, prepared, output);
    } finally {
      logs = undefined;
    }
  };
  return {
    run: (request, sink) => {
      const next = queue.then(() => run(request, sink));
      queue = next.catch(() => undefined);
      return next;
    },
    close: () => environment?.worker.stop(),
  };
}

/**
 * What the client would run, if it is what the session runs: same template (unchanged), function,
 * environment (so the same database and queues) and build (the one the session migrated for).
 */
function checkRequest(
  request: LinkRequest,
  session: SessionFunction,
  templateModified: number,
): { event: unknown; json: boolean; build: number; warnings: string[] } | Declined {
  const parsed = parseOrDecline(() => parseCommand(INVOKE_SPEC, request.argv));
  if ("declined" in parsed) return parsed;
  const { values, positionals } = parsed;
  const { env } = request;
  if (values.help || positionals.length > 1 || values.event === "-")
    return { declined: "not a plain invoke" };
  if (values["env-file"] !== undefined || values["debug-port"] !== undefined)
    return { declined: "an env file or a debugger: the client's own run" };
  // What the client would write or say besides the invocation (a log file, SAM's config, Docker notes).
  const own = OWN_RUN_FLAGS.find((flag) => values[flag] !== undefined && values[flag] !== false);
  if (own !== undefined) return { declined: `--${own}: the client's own run` };
  const base = env.INIT_CWD ?? request.cwd;
  const { prepared } = session;
  const template = parseOrDecline(() => discoverTemplate(values.template, env, existsSync, base));
  if ("declined" in template) return template;
  if (template.path !== session.templatePath) return { declined: "another template" };
  if (statSync(session.templatePath).mtimeMs !== templateModified)
    return { declined: "the template changed since the session read it" };
  const build = builtStamp(prepared.template, prepared.definition.logicalId, session.config);
  if (build === undefined || build !== session.migratedBuild())
    return { declined: "the build changed since the session built and migrated it" };
  try {
    const definition = pickFunction(prepared.template, positionals[0]);
    if (definition.logicalId !== prepared.definition.logicalId) return { declined: "another function" };
    const policy = productionPolicy(values["allow-prod"]);
    refuseProduction(hostEnvironmentName(env, undefined), policy);
    const envVarsPath = values["env-vars"] && resolve(base, values["env-vars"]);
    const environment = resolveFunctionEnvironment({
      template: prepared.template,
      definition,
      templateLabel: template.label,
      parameterOverrides: parseParameterOverrides(values["parameter-overrides"]),
      envVars: envVarsPath
        ? validateEnvVarsFile(readJsonFile(envVarsPath, "env-vars file"), envVarsPath)
        : undefined,
      envVarsLabel: values["env-vars"],
      hostEnv: env,
      resolveResource: prepared.cloud?.resolveResource,
    });
    refuseProduction(functionEnvironmentName(environment), policy);
    const embedded = !namesDatabase(environment.values);
    const dataDir = values["data-dir"]
      ? resolve(base, values["data-dir"])
      : resolve(request.cwd, env.DEVRUNNER_DATA_DIR ?? DEFAULT_PGLITE_DIR);
    if (embedded && (!prepared.embedded || dataDir !== session.dataDir))
      return { declined: "another database" };
    const wanted: Record<string, string> = {
      ...lambdaRuntimeEnvironment(definition, prepared.artifactsDir, env),
      ...environment.values,
      ...(embedded ? prepared.embedded?.environment : {}),
      ...prepared.cloud?.sdkEnvironment,
    };
    const names = new Set([...Object.keys(wanted), ...Object.keys(prepared.env)]);
    const differs = [...names].find((name) => wanted[name] !== prepared.env[name]);
    if (differs !== undefined) return { declined: `another environment (${differs})` };
    const event =
      values.event === undefined || values["no-event"]
        ? {}
        : readJsonFile(resolve(base, values.event), "event");
    const warnings = environment.dropped.map(
      ({ name, section }) =>
        `warning: ${name} (from ${envVarsPath ?? "the env-vars file"}, "${section}") is not declared in ${definition.logicalId}'s Environment in the template: dropped, as SAM does (aws-sam-cli #6145)`,
    );
    return { event, json: values.json, build, warnings };
  } catch (error) {
    // What the command itself would refuse (a bad file, a production name): it runs there, to say so.
    return { declined: `refused: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The function `up` runs: built and migrated once, at its start (now). */
export function startedFunction(
  prepared: PreparedFunction,
  request: { readonly templatePath: string; readonly dataDir: string; readonly config: LocalAwsConfig },
): SessionFunction {
  const migrated = builtStamp(prepared.template, prepared.definition.logicalId, request.config);
  return {
    prepared,
    templatePath: request.templatePath,
    dataDir: request.dataDir,
    config: request.config,
    migratedBuild: () => migrated,
  };
}

/** A `watch invoke` session runs linked invokes of its function, on the build it last migrated for. */
export function linkWatchInvoke(
  state: Extract<WatchState, { kind: "invoke" }>,
): Promise<SessionLink | undefined> {
  return linkSession(state.config, {
    invoke: linkedInvoker({ ...state, migratedBuild: () => state.migratedBuild }),
  });
}
