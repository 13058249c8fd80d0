import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describeDatabaseTarget, namesDatabase, parseDatabaseSettings } from "@entity/adapters/postgres";
import { parse as parseDotenv } from "dotenv";
import { readTextFile } from "./args.ts";
import { displayPath, repositoryRoot, userPath } from "./paths.ts";
import { localAwsConfig, type LocalAwsConfig } from "../local-aws/config.ts";
import { UsageError } from "./errors.ts";
import type { DatabaseTarget } from "../root.ts";
import {
  hostEnvironmentName,
  loadProductionPattern,
  refuseProduction,
  type EnvironmentName,
  type ProductionPolicy,
} from "../local-aws/production.ts";

export type DatabaseChoice = "auto" | "memory" | "pglite" | "postgres";

// The type lives with the root that opens it; commands and doctor keep importing it from here.
export type { DatabaseTarget };

export const DEFAULT_PGLITE_DIR = ".devrunner/pglite";

/** The environment a command sees: the process's, with an `--env-file` (dotenv) laid over it. */
export function commandEnvironment(envFile: string | undefined): Record<string, string | undefined> {
  return loadCommandEnvironment(envFile).env;
}

/** The command's environment and the environment name (`ENV`) in it, with where that came from. */
export function loadCommandEnvironment(envFile: string | undefined): {
  env: Record<string, string | undefined>;
  names: EnvironmentName[];
} {
  const fileValues = envFile ? parseDotenv(readTextFile(envFile, "env file")) : undefined;
  const env = { ...process.env, ...fileValues };
  const file = envFile && fileValues ? { label: displayPath(envFile), values: fileValues } : undefined;
  return { env, names: hostEnvironmentName(env, file) };
}

/** --allow-prod and the project's production names, read once per command. */
export function productionPolicy(allowProd: boolean): ProductionPolicy {
  return { allowed: allowProd, pattern: loadProductionPattern(repositoryRoot()) };
}

/**
 * The local-AWS core's config for this command: its environment (with --env-file), the repository and
 * the region (--region, else AWS_REGION, AWS_DEFAULT_REGION, us-east-1: the same in every command).
 */
export function localAwsConfigFor(
  env: Readonly<Record<string, string | undefined>>,
  region?: string,
): LocalAwsConfig {
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
    throw new UsageError(`--region must name an AWS region like eu-west-1, not '${region}'`);
  return localAwsConfig(env, { repositoryRoot: repositoryRoot(), region });
}

/** Memory when asked, Postgres when the environment names one, else the embedded PGlite folder. */
export function chooseDatabase(
  env: Readonly<Record<string, string | undefined>>,
  choice: DatabaseChoice,
  dataDir: string | undefined,
): DatabaseTarget {
  if (!["auto", "memory", "pglite", "postgres"].includes(choice)) {
    throw new UsageError(`--db must be memory, pglite or postgres, not '${choice}'`);
  }
  if (choice === "memory") return { kind: "memory" };
  const wantsPostgres = choice === "postgres" || (choice === "auto" && namesDatabase(env));
  if (wantsPostgres) {
    if (!namesDatabase(env))
      throw new UsageError("--db postgres needs DATABASE_URL or DB_HOST (in the environment or --env-file)");
    return { kind: "postgres", settings: parseDatabaseSettings(env, { poolMax: 4 }) };
  }
  return { kind: "pglite", dataDir: embeddedDataDir(env, dataDir) };
}

/** The embedded database's folder: --data-dir, else DEVRUNNER_DATA_DIR, else .devrunner/pglite. */
export function embeddedDataDir(env: Readonly<Record<string, string | undefined>>, flag?: string): string {
  const dataDir = resolve(flag ?? env.DEVRUNNER_DATA_DIR ?? DEFAULT_PGLITE_DIR);
  const source = flag ? "--data-dir" : env.DEVRUNNER_DATA_DIR ? "DEVRUNNER_DATA_DIR" : "the data folder";
  // The folder is made on first use: what must not be a file is it, or the nearest part of it that exists.
  for (let path = dataDir; ; path = dirname(path)) {
    const found = statSync(path, { throwIfNoEntry: false });
    if (found && !found.isDirectory())
      throw new UsageError(
        `${source} '${dataDir}' cannot be the embedded database's folder: ${path === dataDir ? "it is a file" : `'${path}' is a file`}`,
      );
    if (found || dirname(path) === path) return dataDir;
  }
}

export function describeTarget(target: DatabaseTarget): string {
  switch (target.kind) {
    case "memory":
      return "in-memory store (nothing is kept)";
    case "pglite":
      return `embedded PGlite in ${target.dataDir}`;
    case "postgres":
      return describeDatabaseTarget(target.settings);
  }
}

/** The flags of every command that works on a database (see FLAGS). */
export const TARGET_FLAGS = ["db", "env-file", "data-dir", "allow-prod"] as const;

/**
 * The environment (with --env-file, a path relative to where the user typed the command) and the
 * database it names; refuses a production ENV unless --allow-prod (or when only reading).
 */
export function resolveTarget(
  values: {
    db: string;
    "env-file"?: string | undefined;
    "data-dir"?: string | undefined;
    "allow-prod": boolean;
  },
  options: { readOnly?: boolean } = {},
): { env: Record<string, string | undefined>; target: DatabaseTarget } {
  const { env, names } = loadCommandEnvironment(values["env-file"] && userPath(values["env-file"]));
  if (!options.readOnly) refuseProduction(names, productionPolicy(values["allow-prod"]));
  const target = chooseDatabase(
    env,
    values.db as DatabaseChoice,
    values["data-dir"] && userPath(values["data-dir"]),
  );
  return { env, target };
}
