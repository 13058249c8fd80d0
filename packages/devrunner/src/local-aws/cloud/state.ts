import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { LocalAwsError } from "../errors.ts";

/** What `up` tells `publish` and `dlq` (other terminals) about the running local cloud. */
export interface UpState {
  readonly pid: number;
  readonly endpoint: string;
  readonly region: string;
  readonly topicArn: string;
  readonly queueUrl: string;
  readonly dlqUrl: string | undefined;
  readonly outboundQueueUrl: string | undefined;
}

/** Written by the running `up` to `stateFile` (LocalAwsConfig.stateFile). */
export function writeUpState(stateFile: string, state: UpState): void {
  mkdirSync(dirname(stateFile), { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function removeUpState(stateFile: string): void {
  rmSync(stateFile, { force: true });
}

/** The running local cloud, or NO_LOCAL_CLOUD when none is (its file is missing, or its process gone). */
export function readUpState(stateFile: string): UpState {
  const missing = new LocalAwsError(
    "NO_LOCAL_CLOUD",
    "no local cloud is running: start `pnpm devrunner up` in another terminal first",
  );
  if (!existsSync(stateFile)) throw missing;
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as UpState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw missing;
  }
  return state;
}
