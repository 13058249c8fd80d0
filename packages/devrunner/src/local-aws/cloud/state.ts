import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { UsageError } from "../../cli/errors.ts";
import { repositoryRoot } from "../../cli/paths.ts";

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

export function upStatePath(): string {
  return process.env.DEVRUNNER_UP_STATE ?? join(repositoryRoot(), ".devrunner", "up.json");
}

export function writeUpState(state: UpState): void {
  const path = upStatePath();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`);
}

export function removeUpState(): void {
  rmSync(upStatePath(), { force: true });
}

export function readUpState(): UpState {
  const path = upStatePath();
  const missing = new UsageError(
    "no local cloud is running: start `pnpm devrunner up` in another terminal first",
  );
  if (!existsSync(path)) throw missing;
  const state = JSON.parse(readFileSync(path, "utf8")) as UpState;
  try {
    process.kill(state.pid, 0);
  } catch {
    throw missing;
  }
  return state;
}
