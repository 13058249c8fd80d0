import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LocalAwsConfig } from "./config.ts";
import { LocalAwsError } from "./errors.ts";
import { samFunction, type SamTemplate } from "./template/sam-template.ts";
import { newestModification } from "../../bin/newest-modification.mjs";

const SOURCES = [
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
  const root = config.repositoryRoot;
  const { buildId, functionIds } = buildGroup(template, logicalId);
  const artifactsDir = join(config.buildDir, buildId);
  if (builtStamp(template, logicalId, config) !== undefined) return { artifactsDir, rebuilt: false };
  const started = performance.now();
  try {
    await promisify(execFile)(
      "make",
      [`build-${buildId}`, `ARTIFACTS_DIR=${artifactsDir}`, "BUILD_FLAGS=--quiet"],
      {
        cwd: root,
      },
    );
  } catch (error) {
    const failed = error as { stderr?: string; stdout?: string; message: string };
    throw new LocalAwsError(
      "BUILD_FAILED",
      `building ${buildId} failed:\n${failed.stderr || failed.stdout || failed.message}`,
    );
  }
  const built = functionIds.length > 1 ? `${buildId} (with ${functionIds.slice(1).join(", ")})` : buildId;
  note(`built ${built} in ${(performance.now() - started).toFixed(0)} ms (sources changed)`);
  return { artifactsDir, rebuilt: true };
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
