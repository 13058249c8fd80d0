import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repositoryRoot } from "./paths.ts";

/** `watch` without arguments re-runs the last `process` or `invoke`; they record themselves here. */
function lastCommandPath(): string {
  return join(repositoryRoot(), ".devrunner", "last-command.json");
}

export function recordLastCommand(
  command: "process" | "invoke",
  argv: readonly string[],
  cwd = process.env.INIT_CWD ?? process.cwd(),
): void {
  try {
    mkdirSync(dirname(lastCommandPath()), { recursive: true });
    writeFileSync(lastCommandPath(), JSON.stringify({ command, argv, cwd }));
  } catch {
    // Only a convenience for `watch`; never fail the command over it.
  }
}

export function readLastCommand():
  { command: "process" | "invoke"; argv: string[]; cwd: string } | undefined {
  if (!existsSync(lastCommandPath())) return undefined;
  return JSON.parse(readFileSync(lastCommandPath(), "utf8")) as {
    command: "process" | "invoke";
    argv: string[];
    cwd: string;
  };
}
