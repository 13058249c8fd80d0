import { readFileSync } from "node:fs";
import { namesDatabase } from "@entity/adapters/postgres";
import {
  parseSamTemplate,
  samFunction,
  type SamFunctionDefinition,
  type SamTemplate,
} from "@entity/adapters/sam";
import type { LocalCloud } from "./cloud/local-cloud.ts";
import type { EmbeddedDatabaseServer } from "./embedded-database.ts";
import { UsageError } from "./errors.ts";
import { buildGroup, ensureBuilt, type BuiltFunctions } from "./function-build.ts";
import {
  DATABASE_VARIABLE,
  type EnvVarsFile,
  envVarsFileValues,
  lambdaRuntimeEnvironment,
  resolveEnvironment,
  resolveProperties,
} from "./function-environment.ts";
import { repositoryRoot } from "./paths.ts";
import type { FunctionSettings, FunctionWorker } from "./runtime/function-worker.ts";
import {
  customResourceProviders,
  customResourcesBefore,
  prestartResourceWorker,
  runCustomResources,
  type CustomResourceDefinition,
  type PreparedCustomResource,
  type ResourceWorker,
} from "./runtime/custom-resources.ts";

export type { EnvVarsFile } from "./function-environment.ts";

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
  readonly templatePath: string;
  readonly logicalId: string | undefined;
  readonly envVars: EnvVarsFile | undefined;
  readonly envVarsPath: string | undefined;
  readonly parameterOverrides: Readonly<Record<string, string>>;
  /** The devrunner's environment: AWS credentials and region pass through; DB_* name the database. */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
  readonly dataDir: string;
  /** A running local cloud (`up`); otherwise one is started when the template's queues are needed. */
  readonly cloud?: LocalCloud;
  readonly note: (text: string) => void;
  /** A prestarted execution environment for the function: configured, and its init begun, once its environment is known. */
  readonly functionWorker?: FunctionWorker;
}

export function loadTemplate(templatePath: string): SamTemplate {
  let text: string;
  try {
    text = readFileSync(templatePath, "utf8");
  } catch {
    throw new UsageError(`cannot read the template '${templatePath}' (use --template)`);
  }
  try {
    return parseSamTemplate(text);
  } catch (error) {
    throw new UsageError(`template '${templatePath}': ${(error as Error).message}`);
  }
}

/**
 * The function named, or else the template's one function that takes traffic: functions that only
 * serve custom resources (the schema migration) run before it, not on their own.
 */
export function pickFunction(template: SamTemplate, logicalId: string | undefined): SamFunctionDefinition {
  const functions = Object.entries(template.resources)
    .filter(([, r]) => r.Type === "AWS::Serverless::Function")
    .map(([id]) => id);
  const providers = new Set(customResourceProviders(template));
  const candidates = functions.filter((id) => !providers.has(id));
  const id = logicalId ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!id)
    throw new UsageError(
      `the template has ${functions.length} functions (${functions.join(", ")}): name one`,
    );
  try {
    return samFunction(template, id);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Checks the env-vars file has SAM's shape: `{ "Parameters": {...}, "<FunctionId>": {...} }`, scalar values. */
export function validateEnvVarsFile(value: unknown, path: string): EnvVarsFile {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new UsageError(
      `env-vars file '${path}' must be a JSON object like {"EntityFunction": {"DB_HOST": "..."}}`,
    );
  }
  for (const [section, variables] of Object.entries(value)) {
    if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
      throw new UsageError(`env-vars file '${path}': "${section}" must be an object of variables`);
    }
    for (const [name, variable] of Object.entries(variables as Record<string, unknown>)) {
      if (variable !== null && !["string", "number", "boolean"].includes(typeof variable)) {
        throw new UsageError(
          `env-vars file '${path}': ${section}.${name} must be a string, number or boolean`,
        );
      }
    }
  }
  return value as EnvVarsFile;
}

/**
 * Builds the function if a source changed (the Makefile target `sam build` runs), and works out its
 * environment: template values and parameter overrides, then the env-vars file (`Parameters` for every
 * function, then the function's own section), keeping only declared variables, as SAM does. Also
 * prepares the custom resources the function depends on (the schema migration): their functions come
 * from the same build and reach the same database; `runCustomResources` creates them.
 */
export async function prepareFunction(options: PrepareOptions): Promise<PreparedFunction> {
  const template = loadTemplate(options.templatePath);
  const definition = pickFunction(template, options.logicalId);
  const resources = customResourcesBefore(template, definition.logicalId);
  // Their execution environments start now: Node's start-up overlaps the build check and the database.
  const resourceWorkers = resources.map(() => prestartResourceWorker());
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
  const root = repositoryRoot();
  const builds = new Map<string, Promise<BuiltFunctions>>();
  const built = (logicalId: string): Promise<BuiltFunctions> => {
    const { buildId } = buildGroup(template, logicalId);
    if (!builds.has(buildId)) builds.set(buildId, ensureBuilt(template, logicalId, root, options.note));
    return builds.get(buildId)!;
  };
  const fileValues = envVarsFileValues(definition, options, ["Parameters", definition.logicalId]);
  const declared = Object.keys(definition.environment);
  const databaseFromHost = namesDatabase(options.hostEnv);
  const hostDatabase = databaseFromHost
    ? Object.fromEntries(
        declared
          .filter((name) => DATABASE_VARIABLE.test(name) && options.hostEnv[name] !== undefined)
          .map((name) => [name, options.hostEnv[name] ?? ""]),
      )
    : {};
  let cloud = options.cloud;
  let resolved = resolveEnvironment(definition, template, options.parameterOverrides, cloud);
  const needsCloud = resolved.unresolved.some(
    (name) =>
      fileValues[name] === undefined && hostDatabase[name] === undefined && !DATABASE_VARIABLE.test(name),
  );
  // The database never comes from the cloud: whether the embedded one is needed is known now.
  const needsEmbedded = !namesDatabase({ ...resolved.values, ...hostDatabase, ...fileValues });

  // The build check, the emulator and PGlite start together: PGlite's start is the longest.
  // Loaded only when needed: the emulator and PGlite are the heaviest modules the devrunner has.
  const [build, ownCloud, embedded] = await allOrCleanUp(
    built(definition.logicalId),
    !cloud && needsCloud
      ? import("./cloud/local-cloud.ts").then(({ startLocalCloud }) => startLocalCloud(template))
      : undefined,
    needsEmbedded
      ? import("./embedded-database.ts").then(({ serveEmbeddedDatabase }) =>
          serveEmbeddedDatabase(options.dataDir),
        )
      : undefined,
  );
  const { artifactsDir } = build;
  if (ownCloud) {
    cloud = ownCloud;
    options.note(`local cloud: fauxqs on ${cloud.endpoint} with the template's queues and topics`);
    resolved = resolveEnvironment(definition, template, options.parameterOverrides, cloud);
  }
  const functionEnv: Record<string, string> = { ...resolved.values, ...hostDatabase, ...fileValues };
  if (embedded) Object.assign(functionEnv, embedded.environment);
  const env: Record<string, string> = {
    ...lambdaRuntimeEnvironment(definition, artifactsDir, options.hostEnv),
    ...functionEnv,
    ...(cloud ? cloud.sdkEnvironment : {}),
  };

  let customResources: PreparedCustomResource[];
  try {
    customResources = await prepareCustomResources(resources, resourceWorkers, {
      template,
      options,
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
    for (const { service, env: serviceEnv, worker } of customResources) {
      worker.worker.configure(workerSettings(service, serviceEnv));
      worker.worker.initialize();
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

/** How a worker runs this function: its environment, Timeout and memory. */
export function workerSettings(
  definition: SamFunctionDefinition,
  env: Readonly<Record<string, string>>,
): FunctionSettings {
  return { env, timeoutMs: definition.timeoutSeconds * 1000, memorySizeMb: definition.memorySizeMb };
}

/** Awaits the build and the servers starting together; when one fails, stops what the others started. */
async function allOrCleanUp(
  build: Promise<BuiltFunctions>,
  cloud: Promise<LocalCloud> | undefined,
  embedded: Promise<EmbeddedDatabaseServer> | undefined,
): Promise<[BuiltFunctions, LocalCloud | undefined, EmbeddedDatabaseServer | undefined]> {
  const [built, startedCloud, startedDatabase] = await Promise.allSettled([build, cloud, embedded]);
  if (
    built.status === "fulfilled" &&
    startedCloud.status === "fulfilled" &&
    startedDatabase.status === "fulfilled"
  )
    return [built.value, startedCloud.value, startedDatabase.value];
  if (startedCloud.status === "fulfilled") await startedCloud.value?.stop();
  if (startedDatabase.status === "fulfilled") await startedDatabase.value?.stop();
  const failed = [built, startedCloud, startedDatabase].find((result) => result.status === "rejected");
  throw failed?.reason;
}

/** Each resource's function, from its build, with its environment: the function's database by default. */
async function prepareCustomResources(
  resources: readonly CustomResourceDefinition[],
  resourceWorkers: readonly ResourceWorker[],
  context: {
    readonly template: SamTemplate;
    readonly options: PrepareOptions;
    readonly built: (logicalId: string) => Promise<BuiltFunctions>;
    readonly functionEnv: Readonly<Record<string, string>>;
    readonly cloud: LocalCloud | undefined;
  },
): Promise<PreparedCustomResource[]> {
  const { template, options, functionEnv, cloud } = context;
  const prepared: PreparedCustomResource[] = [];
  for (const [index, resource] of resources.entries()) {
    const service = samFunction(template, resource.serviceFunctionId);
    const { artifactsDir } = await context.built(service.logicalId);
    // The same database as the function, unless the env-vars file gives this function its own (a DDL role).
    const sameDatabase = Object.fromEntries(
      Object.keys(service.environment)
        .filter((name) => DATABASE_VARIABLE.test(name) && functionEnv[name] !== undefined)
        .map((name) => [name, functionEnv[name]!]),
    );
    prepared.push({
      definition: resource,
      service,
      env: {
        ...lambdaRuntimeEnvironment(service, artifactsDir, options.hostEnv),
        ...resolveEnvironment(service, template, options.parameterOverrides, cloud).values,
        ...sameDatabase,
        ...envVarsFileValues(service, options, [service.logicalId]),
        ...(cloud ? cloud.sdkEnvironment : {}),
      },
      properties: resolveProperties(resource, template, options.parameterOverrides, cloud),
      worker: resourceWorkers[index]!,
    });
  }
  return prepared;
}

/**
 * Creates the custom resources the function depends on (its schema migration), as a deploy does before
 * the function takes traffic; a FAILED one throws with its reason (and shows that function's logs).
 */
export function createCustomResources(
  prepared: PreparedFunction,
  output: { note: (text: string) => void; logSink: (chunk: Buffer) => void },
): Promise<void> {
  return runCustomResources(prepared.customResources, {
    region: prepared.env.AWS_REGION ?? "us-east-1",
    ...output,
  });
}
