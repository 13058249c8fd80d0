import { namesDatabase } from "@entity/adapters/postgres";
import type { SamFunctionDefinition, SamTemplate } from "./template/sam-template.ts";
import type { LocalCloud } from "./cloud/local-cloud.ts";
import type { LocalAwsConfig } from "./config.ts";
import type { EmbeddedDatabaseServer } from "./embedded/embedded-database.ts";
import { buildGroup, ensureBuilt, type BuiltFunctions } from "./build.ts";
import {
  DATABASE_VARIABLE,
  functionEnvironmentName,
  resolveFunctionEnvironment,
  type EnvVarsFile,
  type FunctionEnvironment,
} from "./template/function-environment.ts";
import { refuseProduction, type ProductionPolicy } from "./production.ts";
import type { FunctionWorker } from "./runtime/function-worker.ts";
import { noteArchitectureOnce } from "./runtime/architecture.ts";
import {
  customResourcesBefore,
  prestartResourceWorker,
  runCustomResources,
  type CustomResourceDefinition,
  type PreparedCustomResource,
  type ResourceWorker,
} from "./runtime/custom-resources.ts";
import {
  lambdaRuntimeEnvironment,
  prepareCustomResources,
  startTogether,
  workerSettings,
} from "./runtime/runtime-environment.ts";

export type { EnvVarsFile } from "./template/function-environment.ts";
export { loadTemplate, pickFunction, validateEnvVarsFile } from "./template/functions.ts";
import { loadTemplate, pickFunction } from "./template/functions.ts";
export { workerSettings } from "./runtime/runtime-environment.ts";

export interface PreparedFunction {
  readonly definition: SamFunctionDefinition;
  readonly template: SamTemplate;
  readonly artifactsDir: string;
  /** The function's whole environment, as Lambda would set it. */
  readonly env: Readonly<Record<string, string>>;
  readonly cloud: LocalCloud | undefined;
  readonly embedded: EmbeddedDatabaseServer | undefined;
  /** The custom resources the function depends on, to create before its first invocation. */
  readonly customResources: readonly PreparedCustomResource[];
  close(): Promise<void>;
}

export interface PrepareOptions {
  readonly config: LocalAwsConfig;
  readonly templatePath: string;
  /** How messages name the template and the env-vars file (the paths as the user gave them). */
  readonly templateLabel?: string;
  readonly envVarsLabel?: string;
  readonly logicalId: string | undefined;
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsPath: string | undefined;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  readonly dataDir: string;
  /** Whether the function may run with a production `ENV` (--allow-prod) and what counts as one. */
  readonly production: ProductionPolicy;
  /** A running local cloud (`up`); otherwise one is started when the template's queues are needed. */
  readonly cloud?: LocalCloud;
  readonly note: (text: string) => void;
  /** A prestarted execution environment for the function: configured, and its init begun, once its environment is known. */
  readonly functionWorker?: FunctionWorker;
  /**
   * The custom resources' execution environments are started only when they are created (`invoke`, which
   * checks the schema first and mostly needs none); by default they start at once, overlapping the set-up.
   */
  readonly checkSchemaFirst?: boolean;
}

/**
 * Builds the function if a source changed (the Makefile target `sam build` runs), and works out its
 * environment: template values and parameter overrides, then the env-vars file (`Parameters` for every
 * function, then the function's own section), keeping only declared variables, as SAM does. Also
 * prepares the custom resources the function depends on (the schema migration): their functions come
 * from the same build and reach the same database; `runCustomResources` creates them.
 */
export async function prepareFunction(options: PrepareOptions): Promise<PreparedFunction> {
  const template = loadTemplate(options.templatePath, options.templateLabel);
  const definition = pickFunction(template, options.logicalId);
  noteArchitectureOnce(definition, options.note);
  const resources = customResourcesBefore(template, definition.logicalId);
  // Their execution environments start now: Node's start-up overlaps the build check and the database.
  const resourceWorkers = resources.map(() => prestartResourceWorker(options.checkSchemaFirst));
  const stopResourceWorkers = (): void => resourceWorkers.forEach(({ worker }) => worker.stop());
  try {
    return await prepareWithResources(options, template, definition, resources, resourceWorkers);
  } catch (error) {
    stopResourceWorkers();
    throw error;
  }
}

async function prepareWithResources(
  options: PrepareOptions,
  template: SamTemplate,
  definition: SamFunctionDefinition,
  resources: readonly CustomResourceDefinition[],
  resourceWorkers: readonly ResourceWorker[],
): Promise<PreparedFunction> {
  const builds = new Map<string, Promise<BuiltFunctions>>();
  const built = (logicalId: string): Promise<BuiltFunctions> => {
    const { buildId } = buildGroup(template, logicalId);
    if (!builds.has(buildId))
      builds.set(buildId, ensureBuilt(template, logicalId, options.config, options.note));
    return builds.get(buildId)!;
  };
  const started = await startFunction(options, template, definition, built);
  const { artifactsDir, cloud, ownCloud, embedded, functionEnv, env } = started;
  let customResources: PreparedCustomResource[];
  try {
    customResources = await prepareCustomResources(resources, resourceWorkers, {
      ...options,
      hostEnv: options.config.hostEnv,
      region: options.config.region,
      template,
      built,
      functionEnv,
      cloud,
    });
    // The environment is known before the embedded database is open: the functions' init (no I/O)
    // runs while PGlite opens its folder.
    if (options.functionWorker) {
      options.functionWorker.configure(workerSettings(definition, env));
      options.functionWorker.initialize();
    }
    if (!options.checkSchemaFirst) {
      for (const { service, env: serviceEnv, worker } of customResources) {
        worker.worker.configure(workerSettings(service, serviceEnv));
        worker.worker.initialize();
      }
    }
    if (embedded) {
      await embedded.ready;
      options.note(`database: embedded PGlite (${options.dataDir}) served on 127.0.0.1:${embedded.port}`);
    }
  } catch (error) {
    await embedded?.stop();
    await ownCloud?.stop();
    throw error;
  }
  return {
    definition,
    template,
    artifactsDir,
    env,
    cloud,
    embedded,
    customResources,
    close: async () => {
      for (const { worker } of resourceWorkers) worker.stop();
      await embedded?.stop();
      await ownCloud?.stop();
    },
  };
}

/**
 * The function's build, the local cloud it needs and the embedded database (when nothing names one),
 * started together, and its environment. The embedded database may still be opening (`ready`).
 */
async function startFunction(
  options: PrepareOptions,
  template: SamTemplate,
  definition: SamFunctionDefinition,
  built: (logicalId: string) => Promise<BuiltFunctions>,
): Promise<{
  artifactsDir: string;
  cloud: LocalCloud | undefined;
  ownCloud: LocalCloud | undefined;
  embedded: EmbeddedDatabaseServer | undefined;
  functionEnv: Record<string, string>;
  env: Record<string, string>;
}> {
  let cloud = options.cloud;
  const resolveWith = (resolveResource: LocalCloud["resolveResource"] | undefined): FunctionEnvironment =>
    resolveFunctionEnvironment({
      template,
      definition,
      templateLabel: options.templateLabel ?? options.templatePath,
      parameterOverrides: options.parameterOverrides,
      envVars: options.envVars,
      envVarsLabel: options.envVarsLabel ?? options.envVarsPath,
      hostEnv: options.config.hostEnv,
      resolveResource,
    });
  let environment = resolveWith(cloud?.resolveResource);
  // Before anything is built or started: the guard sees the environment the function would get.
  refuseProduction(functionEnvironmentName(environment), options.production);
  for (const { name, section } of environment.dropped) {
    options.note(
      `warning: ${name} (from ${options.envVarsPath ?? "the env-vars file"}, "${section}") is not declared in ${definition.logicalId}'s Environment in the template: dropped, as SAM does (aws-sam-cli #6145)`,
    );
  }
  const needsCloud = environment.unresolved.some((name) => !DATABASE_VARIABLE.test(name));
  // The database never comes from the cloud: whether the embedded one is needed is known now.
  const needsEmbedded = !namesDatabase(environment.values);
  // Together: PGlite's start is the longest. Loaded only when needed: the emulator and PGlite are the
  // heaviest modules the devrunner has.
  const [build, ownCloud, embedded] = await startTogether(
    built(definition.logicalId),
    !cloud && needsCloud
      ? import("./cloud/local-cloud.ts").then(({ startLocalCloud }) =>
          startLocalCloud(template, { region: options.config.region }),
        )
      : undefined,
    needsEmbedded
      ? import("./embedded/embedded-database.ts").then(({ serveEmbeddedDatabase, describeSessionEvent }) =>
          serveEmbeddedDatabase(options.dataDir, {
            onEvent: (event) => options.note(describeSessionEvent(event)),
          }),
        )
      : undefined,
  );
  if (ownCloud) {
    cloud = ownCloud;
    options.note(`local cloud: fauxqs on ${cloud.endpoint} with the template's queues and topics`);
    environment = resolveWith(cloud.resolveResource);
  }
  const functionEnv: Record<string, string> = { ...environment.values, ...embedded?.environment };
  const env: Record<string, string> = {
    ...lambdaRuntimeEnvironment(
      definition,
      build.artifactsDir,
      options.config.hostEnv,
      options.config.region,
    ),
    ...functionEnv,
    ...(cloud ? cloud.sdkEnvironment : {}),
  };
  return { artifactsDir: build.artifactsDir, cloud, ownCloud, embedded, functionEnv, env };
}

/**
 * Creates the custom resources the function depends on (its schema migration), as a deploy does before
 * the function takes traffic; a FAILED one throws with its reason (and shows that function's logs).
 */
export function createCustomResources(
  prepared: PreparedFunction,
  output: {
    note: (text: string) => void;
    logSink: (chunk: Buffer) => void;
    /** See CustomResourceRunOptions.checkSchemaFirst. */
    checkSchemaFirst?: boolean;
  },
): Promise<void> {
  return runCustomResources(prepared.customResources, {
    region: prepared.env.AWS_REGION ?? "us-east-1",
    note: output.note,
    logSink: output.logSink,
    checkSchemaFirst: output.checkSchemaFirst ?? false,
  });
}
