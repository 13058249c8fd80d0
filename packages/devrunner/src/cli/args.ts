import { readFileSync } from "node:fs";
import { UsageError } from "./errors.ts";

export function readTextFile(path: string, what: string): string {
  try {
    return path === "-" ? readFileSync(0, "utf8") : readFileSync(path, "utf8");
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new UsageError(
      `cannot read ${what} ${path === "-" ? "from standard input" : `'${path}'`}: ${reason}`,
    );
  }
}

export function readJsonFile(path: string, what: string): unknown {
  const text = readTextFile(path, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what} '${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

/** `--parameter-overrides` as SAM takes it: `K=V K2="V 2"` or `ParameterKey=K,ParameterValue=V`. */
export function parseParameterOverrides(text: string | undefined): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const pair of text?.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []) {
    const match = /^(?:ParameterKey=)?([A-Za-z0-9]+)(?:=|,ParameterValue=)(.*)$/.exec(pair);
    if (!match) throw new UsageError(`--parameter-overrides: '${pair}' is not KEY=VALUE`);
    overrides[match[1]!] = match[2]!.replace(/^"(.*)"$/, "$1");
  }
  return overrides;
}

export function wholeNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag} must be a whole number, not '${text}'`);
  return Number(text);
}

export function positiveSeconds(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, not '${text}'`);
  return value;
}

/** A port to listen on (`--port`, `--console-port`): 0 picks a free one. */
export function portNumber(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535)
    throw new UsageError(`${flag} must be a port number (0-65535), not '${text}'`);
  return Number(text);
}

/** SQS's VisibilityTimeout: whole seconds, 0 to 43200 (12 hours), as CreateQueue accepts it. */
export function visibilityTimeoutSeconds(flag: string, text: string): number {
  const seconds = wholeNumber(flag, text);
  if (seconds > 43200)
    throw new UsageError(`${flag} must be at most 43200 seconds (12 hours, SQS's maximum), not '${text}'`);
  return seconds;
}
