import { dirname, isAbsolute, join, resolve } from "node:path";

/**
 * Everything the local-AWS core reads from its surroundings, parsed once at the edge (the CLI) and frozen:
 * the core itself never reads process.env.
 */
export interface LocalAwsConfig {
  /** The repository (the folder holding pnpm-workspace.yaml): template, Makefile, sources. */
  readonly repositoryRoot: string;
  /** Where built functions go (DEVRUNNER_BUILD_DIR, default .devrunner/build). */
  readonly buildDir: string;
  /** Where a running `up` tells other terminals how to reach it (DEVRUNNER_UP_STATE). */
  readonly stateFile: string;
  /**
   * Where `up` keeps its queues' and topics' messages between runs (DEVRUNNER_LOCAL_CLOUD_DIR, default
   * local-cloud next to the state file).
   */
  readonly localCloudDir: string;
  /** The region the local cloud and the functions use (the template's, --region, AWS_REGION). */
  readonly region: string;
  /**
   * The devrunner's environment, for what functions inherit from it (AWS credentials, DB_* naming a
   * database) and what their processes need to start (PATH, HOME, NODE_COMPILE_CACHE).
   */
  readonly hostEnv: Readonly<Record<string, string | undefined>>;
}

type Env = Readonly<Record<string, string | undefined>>;

export function localAwsConfig(
  env: Env,
  options: { repositoryRoot: string; region?: string | undefined },
): LocalAwsConfig {
  const underRoot = (value: string | undefined, fallback: string): string =>
    value
      ? isAbsolute(value)
        ? value
        : resolve(options.repositoryRoot, value)
      : join(options.repositoryRoot, fallback);
  const stateFile = underRoot(env.DEVRUNNER_UP_STATE?.trim(), ".devrunner/up.json");
  return Object.freeze({
    repositoryRoot: options.repositoryRoot,
    buildDir: underRoot(env.DEVRUNNER_BUILD_DIR?.trim(), ".devrunner/build"),
    stateFile,
    localCloudDir: env.DEVRUNNER_LOCAL_CLOUD_DIR?.trim()
      ? underRoot(env.DEVRUNNER_LOCAL_CLOUD_DIR.trim(), "")
      : join(dirname(stateFile), "local-cloud"),
    region: options.region ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim() || "us-east-1"),
    hostEnv: Object.freeze({ ...env }),
  });
}
