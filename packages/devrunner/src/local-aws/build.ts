import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LocalAwsConfig } from "./config.ts";
import { LocalAwsError } from "./errors.ts";
import { samFunction, type SamTemplate } from "./template/sam-template.ts";
import { newestModification } from "../../bin/newest-modification.mjs";

/** What the functions are built from (the repository's paths): a change to any of them means a new build. */
export const SOURCES = [
  "packages/domain/src",
  "packages/adapters/src",
  "packages/lambda/src",
  "packages/lambda/scripts",
  "Makefile",
  "pnpm-lock.yaml",
];

export interface BuiltFunctions {
  /** The artifact every function of the build group runs from (LAMBDA_TASK_ROOT). */
  readonly artifactsDir: string;
  /** True when this call ran the build (a source had changed). */
  readonly rebuilt: boolean;
}

/**
 * The functions built together with `logicalId`: SAM builds functions that share a CodeUri and build
 * method once, and so does this. The group is named after its first function in the template.
 */
export function buildGroup(
  template: SamTemplate,
  logicalId: string,
): { buildId: string; functionIds: string[] } {
  const buildKey = (id: string): string => {
    const resource = template.resources[id];
    return JSON.stringify([
      samFunction(template, id).codeUri ?? ".",
      resource?.Metadata?.BuildMethod ?? null,
    ]);
  };
  const key = buildKey(logicalId);
  const functionIds = Object.entries(template.resources)
    .filter(([id, resource]) => resource.Type === "AWS::Serverless::Function" && buildKey(id) === key)
    .map(([id]) => id);
  return { buildId: functionIds[0] ?? logicalId, functionIds };
}

/**
 * The built artifact of `logicalId`'s build group in `.devrunner/build/<FirstFunctionId>`, rebuilt with
 * `make build-<FirstFunctionId>` (what `sam build` runs) when a source is newer than any function's entry.
 */
export async function ensureBuilt(
  template: SamTemplate,
  logicalId: string,
  config: Pick<LocalAwsConfig, "repositoryRoot" | "buildDir">,
  note: (text: string) => void,
): Promise<BuiltFunctions> {
  const { buildId, functionIds } = buildGroup(template, logicalId);
  const artifactsDir = join(config.buildDir, buildId);
  if (builtStamp(template, logicalId, config) !== undefined) return { artifactsDir, rebuilt: false };
  const started = performance.now();
  await buildInto(template, logicalId, config, artifactsDir);
  const built = functionIds.length > 1 ? `${buildId} (with ${functionIds.slice(1).join(", ")})` : buildId;
  note(`built ${built} in ${(performance.now() - started).toFixed(0)} ms (sources changed)`);
  return { artifactsDir, rebuilt: true };
}

/**
 * Runs `make build-<FirstFunctionId>` (what `sam build` runs) for `logicalId`'s build group into
 * `artifactsDir`, whether or not a source changed; BUILD_FAILED with the build's output when it fails.
 */
export async function buildInto(
  template: SamTemplate,
  logicalId: string,
  config: Pick<LocalAwsConfig, "repositoryRoot">,
  artifactsDir: string,
  signal?: AbortSignal,
): Promise<void> {
  const { buildId } = buildGroup(template, logicalId);
  try {
    await promisify(execFile)(
      "make",
      [`build-${buildId}`, `ARTIFACTS_DIR=${artifactsDir}`, "BUILD_FLAGS=--quiet"],
      { cwd: config.repositoryRoot, ...(signal ? { signal } : {}) },
    );
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new LocalAwsError(
      "BUILD_FAILED",
      `building ${buildId} failed:\n${failed.stderr || failed.stdout || failed.message}`,
    );
  }
}

/**
 * When `logicalId`'s build group was last built (its oldest entry's modification time), or undefined when
 * a source is newer than one of its entries (the next `ensureBuilt` rebuilds). No build.
 */
export function builtStamp(
  template: SamTemplate,
  logicalId: string,
  config: Pick<LocalAwsConfig, "repositoryRoot" | "buildDir">,
): number | undefined {
  const { buildId, functionIds } = buildGroup(template, logicalId);
  const entries = functionIds.map((id) =>
    join(config.buildDir, buildId, `${moduleOf(samFunction(template, id).handler)}.mjs`),
  );
  if (!entries.every((entry) => existsSync(entry))) return undefined;
  const newestSource = newestModification(SOURCES.map((path) => join(config.repositoryRoot, path)));
  const oldestEntry = Math.min(...entries.map((entry) => statSync(entry).mtimeMs));
  return oldestEntry >= newestSource ? oldestEntry : undefined;
}

function moduleOf(handler: string): string {
  const dot = handler.lastIndexOf(".");
  return dot > 0 ? handler.slice(0, dot) : "index";
}
